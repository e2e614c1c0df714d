{{/*
Helpers of the rap chart. The ports are the services' own defaults
(docs/configuration.md) and are fixed here: the gateway's nginx config,
the probes, the Services, the ServiceMonitors and the Istio policies all
follow from them.
*/}}

{{- define "rap.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-rap, or the release name when it already holds the chart's. */}}
{{- define "rap.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "rap.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The ports of each service (docs/configuration.md). */}}
{{- define "rap.port" -}}
{{- $ports := dict "upload-api" 8101 "job-api" 8102 "notifier" 8103 "worker" 8104 "gateway" 8080 -}}
{{- get $ports . -}}
{{- end -}}

{{/* The values key of a component. */}}
{{- define "rap.key" -}}
{{- $keys := dict "upload-api" "uploadApi" "job-api" "jobApi" "notifier" "notifier" "worker" "worker" "gateway" "gateway" -}}
{{- get $keys . -}}
{{- end -}}

{{/* Name of a component's objects: <fullname>-<component>. Takes (list $ "component"). */}}
{{- define "rap.component.fullname" -}}
{{- printf "%s-%s" (include "rap.fullname" (index . 0)) (index . 1) -}}
{{- end -}}

{{/*
Labels. app.kubernetes.io/name is rap-<component>: it names the image and,
through the ServiceMonitors' jobLabel, the Prometheus job that the rules of
observability/ expect (rap-upload-api, rap-job-api, rap-notifier,
rap-worker). Takes (list $ "component").
*/}}
{{- define "rap.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: rap-{{ index . 1 }}
app.kubernetes.io/instance: {{ $.Release.Name }}
{{- end -}}

{{- define "rap.labels" -}}
{{- $ := index . 0 -}}
{{ include "rap.selectorLabels" . }}
app.kubernetes.io/component: {{ index . 1 }}
app.kubernetes.io/part-of: rap
app.kubernetes.io/version: {{ $.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $.Chart.Name $.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Image of a component: takes (list $ "component"). */}}
{{- define "rap.image" -}}
{{- $ := index . 0 -}}
{{- $c := get $.Values (include "rap.key" (index . 1)) -}}
{{- printf "%s/%s:%s" ($.Values.image.registry | trimSuffix "/") $c.image.repository (default $.Chart.AppVersion $.Values.image.tag) -}}
{{- end -}}

{{- define "rap.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser | int64 }}
runAsGroup: {{ .Values.podSecurity.runAsGroup | int64 }}
fsGroup: {{ .Values.podSecurity.fsGroup | int64 }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "rap.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser | int64 }}
runAsGroup: {{ .Values.podSecurity.runAsGroup | int64 }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "rap.imagePullSecrets" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Which component reads which shared setting (docs/configuration.md, the
opening paragraph): a setting goes only to the services that read it.
*/}}
{{- define "rap.sharedReaders" -}}
RAP_LOG_LEVEL: [upload-api, job-api, worker, notifier]
RAP_JOB_TYPES: [upload-api, job-api, worker]
RAP_JOB_CONTENT_TYPES: [upload-api, job-api]
RAP_JOB_LIMITS: [job-api, worker]
RAP_PRESIGN_SECONDS: [upload-api, job-api]
{{- end -}}

{{/*
A setting's value as its service reads it. Values files reach the templates
through JSON, so 21474836480 arrives as a float and toString would print
2.147483648e+10: whole numbers are printed as integers (the schema allows
only integers and strings).
*/}}
{{- define "rap.settingValue" -}}
{{- if or (kindIs "float64" .) (kindIs "float32" .) -}}
{{- int64 . -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/*
The non-secret settings of a component, as ConfigMap data: the shared
settings it reads, what the chart sets (listen address, ports, S3 endpoint,
the definitions file) and its own settings from values. Takes
(list $ "component").
*/}}
{{- define "rap.configData" -}}
{{- $ := index . 0 -}}
{{- $comp := index . 1 -}}
{{- $c := get $.Values (include "rap.key" $comp) -}}
{{- $data := dict "RAP_BIND" "0.0.0.0" -}}
{{- $readers := include "rap.sharedReaders" $ | fromYaml -}}
{{- range $name, $value := $.Values.settings -}}
{{- if has $comp (get $readers $name) -}}
{{- $_ := set $data $name (include "rap.settingValue" $value) -}}
{{- end -}}
{{- end -}}
{{- if has $comp (list "upload-api" "job-api" "worker") -}}
{{- $_ := set $data "RAP_S3_ENDPOINT" $.Values.s3.endpoint -}}
{{- $_ := set $data "RAP_S3_REGION" $.Values.s3.region -}}
{{- $_ := set $data "RAP_S3_BUCKET" $.Values.s3.bucket -}}
{{- end -}}
{{- if and (has $comp (list "upload-api" "job-api")) $.Values.s3.publicEndpoint -}}
{{- $_ := set $data "RAP_S3_PUBLIC_ENDPOINT" $.Values.s3.publicEndpoint -}}
{{- end -}}
{{- if has $comp (list "job-api" "worker" "notifier") -}}
{{- $_ := set $data "RAP_AMQP_DEFINITIONS" "/etc/rap/amqp/definitions.json" -}}
{{- end -}}
{{- if eq $comp "upload-api" -}}
{{- $_ := set $data "RAP_UPLOAD_PORT" (include "rap.port" $comp) -}}
{{- $_ := set $data "RAP_UPLOAD_ADMIN_PORT" (include "rap.settingValue" $c.adminPort) -}}
{{- else if eq $comp "job-api" -}}
{{- $_ := set $data "RAP_JOB_PORT" (include "rap.port" $comp) -}}
{{- $_ := set $data "RAP_JOB_ADMIN_PORT" (include "rap.settingValue" $c.adminPort) -}}
{{- else if eq $comp "notifier" -}}
{{- $_ := set $data "RAP_NOTIFIER_PORT" (include "rap.port" $comp) -}}
{{- $_ := set $data "RAP_NOTIFIER_ADMIN_PORT" (include "rap.settingValue" $c.adminPort) -}}
{{- else if eq $comp "worker" -}}
{{- $_ := set $data "RAP_WORKER_PORT" (include "rap.port" $comp) -}}
{{- $_ := set $data "RAP_WORKER_SCRATCH_DIR" "/var/tmp" -}}
{{- end -}}
{{- range $name, $value := $c.settings -}}
{{- $_ := set $data $name (include "rap.settingValue" $value) -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/* The lease of the workers, in seconds (RAP_LEASE_SECONDS, 15 by default). */}}
{{- define "rap.leaseSeconds" -}}
{{- $lease := 15 -}}
{{- with .Values.worker.settings.RAP_LEASE_SECONDS -}}{{- $lease = . -}}{{- end -}}
{{- $lease | int -}}
{{- end -}}

{{/*
Secret settings of a component, each from an existing Secret
(secretKeyRef): RAP_PG_URL, RAP_AMQP_URL, the S3 keys, RAP_API_KEYS and
RAP_WEBHOOK_SECRET, to the services that read them. Takes
(list $ "component").
*/}}
{{- define "rap.secretEnv" -}}
{{- $ := index . 0 -}}
{{- $comp := index . 1 -}}
- name: RAP_PG_URL
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.postgresql.urlSecret.name }}
      key: {{ $.Values.postgresql.urlSecret.key }}
{{- if has $comp (list "job-api" "worker" "notifier") }}
- name: RAP_AMQP_URL
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.rabbitmq.urlSecret.name }}
      key: {{ $.Values.rabbitmq.urlSecret.key }}
{{- end }}
{{- if has $comp (list "upload-api" "job-api" "worker") }}
- name: RAP_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.s3.credentialsSecret.name }}
      key: {{ $.Values.s3.credentialsSecret.accessKeyKey }}
- name: RAP_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.s3.credentialsSecret.name }}
      key: {{ $.Values.s3.credentialsSecret.secretKeyKey }}
{{- end }}
{{- if has $comp (list "upload-api" "job-api" "notifier") }}
- name: RAP_API_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.apiKeys.secret.name }}
      key: {{ $.Values.apiKeys.secret.key }}
{{- end }}
{{- if and (eq $comp "job-api") $.Values.webhooks.secret.name }}
- name: RAP_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.webhooks.secret.name }}
      key: {{ $.Values.webhooks.secret.key }}
{{- end }}
{{- end -}}

{{/*
Probes on an HTTP port: startup and liveness on /healthz (the process
runs), readiness on /readyz (its dependencies answer). Takes
(list $ portName).
*/}}
{{- define "rap.probes" -}}
{{- $ := index . 0 -}}
{{- $port := index . 1 -}}
{{- $p := $.Values.probes -}}
startupProbe:
  httpGet: {path: /healthz, port: {{ $port }}}
  periodSeconds: {{ $p.startup.periodSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
livenessProbe:
  httpGet: {path: /healthz, port: {{ $port }}}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
readinessProbe:
  httpGet: {path: /readyz, port: {{ $port }}}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
{{- end -}}

{{/* Pod scheduling fields of a component's values. */}}
{{- define "rap.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The Istio identity of a component: its ServiceAccount's SPIFFE name. */}}
{{- define "rap.principal" -}}
{{- $ := index . 0 -}}
{{- printf "%s/ns/%s/sa/%s" $.Values.istio.trustDomain $.Release.Namespace (include "rap.component.fullname" .) -}}
{{- end -}}

{{/*
Pod annotations shared by every Deployment: the checksum of what the
component's ConfigMaps hold (a change rolls its pods, and only its) and, with Istio, the sidecar starting before the
app and staying while the app still has connections (a worker hands its job
back over PostgreSQL and RabbitMQ after SIGTERM). Takes
(list $ "component" podAnnotations).
*/}}
{{- define "rap.podAnnotations" -}}
{{- $ := index . 0 -}}
{{- $comp := index . 1 }}
{{- $cfg := include "rap.configData" (list $ $comp) }}
{{- if has $comp (list "job-api" "worker" "notifier") }}
{{- $cfg = print $cfg ($.Files.Get "files/rabbitmq/definitions.json") }}
{{- end }}
{{- if eq $comp "gateway" }}
{{- $cfg = print $cfg ($.Files.Get "files/nginx/nginx.conf.template") (toJson $.Values.gateway) (toJson $.Values.uploadApi.settings) }}
{{- end }}
checksum/config: {{ $cfg | sha256sum }}
{{- if $.Values.istio.enabled }}
proxy.istio.io/config: '{"holdApplicationUntilProxyStarts":true,"proxyMetadata":{"EXIT_ON_ZERO_ACTIVE_CONNECTIONS":"true"}}'
{{- end }}
{{- with index . 2 }}
{{ toYaml . }}
{{- end }}
{{- end -}}
