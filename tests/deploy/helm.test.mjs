// The Helm chart (infra/helm/rap) checked with no Kubernetes cluster:
// `helm lint` and `helm template` for every values file of
// infra/helm/values/, then every rendered object validated against its
// schema package (kubernetes-models, @kubernetes-models/keda, /istio,
// /prometheus-operator), unknown fields included, and the rules the chart
// promises (docs/deploy.md, "Kubernetes (Helm)") asserted on what it
// renders: security contexts, probes, PodDisruptionBudgets, the workers'
// grace period against their lease, KEDA on the work queues only and with
// trigger keys KEDA knows, the Istio policies naming only the callers each
// service must have, the monitoring objects taken from observability/
// unchanged, and settings named as docs/configuration.md names them.
//
// Helm never reaches a cluster: it runs in a network namespace of its own
// (`unshare -n`, or `unshare -rn` where only user namespaces are allowed)
// with KUBECONFIG pointing at a dummy file whose only server is a closed
// port, so it cannot fall back to http://localhost:8080, the platform's
// gateway. Where no namespace can be made (a container without the
// capability), the dummy kubeconfig and a dead proxy remain and the test
// says so.
//
// The tools come from scripts/deploy-tools.sh, in RAP_DEPLOY_TOOLS
// (/var/cache/rap-deploy-tools by default).
//
// Run: scripts/deploy-tools.sh && node --no-warnings --test tests/deploy/helm.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import YAML from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHART = path.join(ROOT, 'infra/helm/rap');
const VALUES = path.join(ROOT, 'infra/helm/values');
const TOOLS = process.env.RAP_DEPLOY_TOOLS || '/var/cache/rap-deploy-tools';
const HELM = path.join(TOOLS, 'bin/helm');
const MODULES = path.join(TOOLS, 'npm/package.json');
const RELEASE = 'rap';
const NAMESPACE = 'rap';

// What each values file must turn on: a file that silently drops Istio or
// KEDA fails here. Every file of infra/helm/values/ must appear at least
// once (the operator examples alone, production over them).
const SCENARIOS = [
  { name: 'chart defaults', files: [] },
  { name: 'minimal', files: ['minimal.yaml'] },
  {
    name: 'production',
    files: ['cloudnative-pg.yaml', 'rabbitmq-cluster-operator.yaml', 'minio.yaml', 'production.yaml'],
    istio: true, keda: true, hpas: ['upload-api', 'job-api', 'gateway'], monitoring: true, virus: true,
  },
  { name: 'scale-to-zero', files: ['minimal.yaml', 'scale-to-zero.yaml'], keda: true, scaleToZero: true },
  { name: 'rabbitmq-cluster-operator', files: ['rabbitmq-cluster-operator.yaml'] },
  { name: 'cloudnative-pg', files: ['cloudnative-pg.yaml'] },
  { name: 'minio', files: ['minio.yaml'] },
];

// The pools a scenario's workers serve: every pool of the registry but the
// opt-in virus pool, which only a scenario with signatures enables.
const servedPools = (sc) => Object.keys(registryQueues()).filter((p) => p !== 'virus' || sc.virus);

const SERVICES = ['upload-api', 'job-api', 'notifier', 'gateway', 'worker'];
const C_SERVICES = ['upload-api', 'job-api', 'notifier', 'worker'];
const SECRET_SETTINGS = ['RAP_PG_URL', 'RAP_AMQP_URL', 'RAP_S3_ACCESS_KEY', 'RAP_S3_SECRET_KEY',
  'RAP_API_KEYS', 'RAP_WEBHOOK_SECRET'];

// The rabbitmq trigger's metadata keys KEDA knows (keda.sh, scalers,
// "RabbitMQ Queue", 2.16: parameter list and the *FromEnv forms; the
// deprecated queueLength and publishRate are left out on purpose), and the
// TriggerAuthentication parameters of that scaler.
const RABBITMQ_TRIGGER_KEYS = new Set(['host', 'hostFromEnv', 'usernameFromEnv', 'passwordFromEnv',
  'protocol', 'mode', 'value', 'activationValue', 'queueName', 'vhostName', 'useRegex', 'pageSize',
  'operation', 'timeout', 'excludeUnacknowledged', 'unsafeSsl']);
const RABBITMQ_AUTH_PARAMS = new Set(['host', 'username', 'password', 'tls', 'ca', 'cert', 'key',
  'workloadIdentityResource']);

// ---------------------------------------------------------------- tools

function toolsMissing() {
  if (!existsSync(HELM)) return `no helm at ${HELM}`;
  if (!existsSync(path.join(TOOLS, 'npm/node_modules/kubernetes-models/package.json'))) {
    return `no schema packages in ${path.join(TOOLS, 'npm/node_modules')}`;
  }
  return null;
}

// The models, by apiVersion and kind. A kind the chart renders that is not
// here fails the test: add its model.
function loadModels() {
  const req = createRequire(MODULES);
  const m = (mod, name) => req(mod)[name];
  return {
    'v1/ConfigMap': m('kubernetes-models/v1/ConfigMap', 'ConfigMap'),
    'v1/Service': m('kubernetes-models/v1/Service', 'Service'),
    'v1/ServiceAccount': m('kubernetes-models/v1/ServiceAccount', 'ServiceAccount'),
    'apps/v1/Deployment': m('kubernetes-models/apps/v1/Deployment', 'Deployment'),
    'batch/v1/Job': m('kubernetes-models/batch/v1/Job', 'Job'),
    'policy/v1/PodDisruptionBudget': m('kubernetes-models/policy/v1/PodDisruptionBudget', 'PodDisruptionBudget'),
    'autoscaling/v2/HorizontalPodAutoscaler':
      m('kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', 'HorizontalPodAutoscaler'),
    'keda.sh/v1alpha1/ScaledObject': m('@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', 'ScaledObject'),
    'keda.sh/v1alpha1/TriggerAuthentication':
      m('@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication', 'TriggerAuthentication'),
    'security.istio.io/v1beta1/PeerAuthentication':
      m('@kubernetes-models/istio/security.istio.io/v1beta1/PeerAuthentication', 'PeerAuthentication'),
    'security.istio.io/v1beta1/AuthorizationPolicy':
      m('@kubernetes-models/istio/security.istio.io/v1beta1/AuthorizationPolicy', 'AuthorizationPolicy'),
    'networking.istio.io/v1beta1/DestinationRule':
      m('@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule', 'DestinationRule'),
    'monitoring.coreos.com/v1/ServiceMonitor':
      m('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', 'ServiceMonitor'),
    'monitoring.coreos.com/v1/PrometheusRule':
      m('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule', 'PrometheusRule'),
  };
}

/*
 * Unknown fields. The models catch wrong types, enums and missing fields but
 * let any extra key through, and the packages ship no JSON schema to walk
 * (kubernetes-models, keda and prometheus-operator ship their schemas
 * compiled to ajv code; istio embeds JSON schemas without
 * additionalProperties). So the checker runs each model's own validator a
 * second time over a Proxy of the object and records which keys the schema
 * reads at every object: a validator reads each property its schema
 * declares (`data.replicas === undefined`), enumerates the keys of a map
 * (labels, ConfigMap data, trigger metadata: additionalProperties), and
 * never looks inside a free-form object (x-kubernetes-preserve-unknown-
 * fields). A key of a declared-properties object that the schema never read
 * is unknown. Maps and free-form objects are left alone here; the trigger
 * metadata map is checked against RABBITMQ_TRIGGER_KEYS below.
 */
function unknownFields(model) {
  const seen = new Map(); // object -> { keys, enumerated }
  const proxies = new WeakMap();
  const wrap = (v) => {
    if (v === null || typeof v !== 'object') return v;
    if (proxies.has(v)) return proxies.get(v);
    const rec = { keys: new Set(), enumerated: false };
    seen.set(v, rec);
    const p = new Proxy(v, {
      get(t, k, r) {
        const x = Reflect.get(t, k, r);
        if (typeof k !== 'string') return x;
        rec.keys.add(k);
        return Object.hasOwn(t, k) ? wrap(x) : x;
      },
      has(t, k) {
        if (typeof k === 'string') rec.keys.add(k);
        return Reflect.has(t, k);
      },
      ownKeys(t) {
        rec.enumerated = true;
        return Reflect.ownKeys(t);
      },
    });
    proxies.set(v, p);
    return p;
  };
  model.validate.call(wrap(model));
  const unknown = [];
  const walk = (v, at) => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${at}[${i}]`));
      return;
    }
    const rec = seen.get(v);
    if (rec && !rec.enumerated && rec.keys.size > 0) {
      for (const k of Object.keys(v)) if (!rec.keys.has(k)) unknown.push(`${at}.${k}`.replace(/^\./, ''));
    }
    for (const k of Object.keys(v)) walk(v[k], `${at}.${k}`);
  };
  walk(model, '');
  return unknown;
}

// ---------------------------------------------------------------- helm

const missing = toolsMissing();
const work = missing ? null : mkdtempSync(path.join(tmpdir(), 'rap-helm-'));
process.on('exit', () => work && rmSync(work, { recursive: true, force: true }));

// A kubeconfig that leads nowhere: a closed port on loopback.
function writeDummyKubeconfig() {
  const file = path.join(work, 'kubeconfig');
  writeFileSync(file, YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'none', cluster: { server: 'https://127.0.0.1:9' } }],
    users: [{ name: 'none', user: {} }],
    contexts: [{ name: 'none', context: { cluster: 'none', user: 'none' } }],
    'current-context': 'none',
  }));
  return file;
}

// How helm is kept off the network: a private network namespace if one can
// be made here.
function isolation() {
  for (const wrapper of [['unshare', '-n'], ['unshare', '-rn']]) {
    const r = spawnSync(wrapper[0], [...wrapper.slice(1), 'true'], { stdio: 'ignore' });
    if (r.status === 0) return wrapper;
  }
  return [];
}

let helmEnv;
let wrapper;
function helm(args) {
  const cmd = [...wrapper, HELM, ...args];
  const r = spawnSync(cmd[0], cmd.slice(1), { env: helmEnv, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout || '', stderr: (r.stderr || '') + (r.error ? String(r.error) : '') };
}

function valuesArgs(files) {
  return files.flatMap((f) => ['-f', path.join(VALUES, f)]);
}

function render(files, extra = []) {
  return helm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...valuesArgs(files), ...extra]);
}

function parseAll(text) {
  const objs = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    assert.deepEqual(doc.errors, [], 'helm rendered YAML that does not parse');
    const obj = doc.toJS();
    if (obj) objs.push(obj);
  }
  return objs;
}

// ---------------------------------------------------------------- the repository's own facts

function read(rel) {
  return readFileSync(path.join(ROOT, rel), 'utf8');
}

// docs/configuration.md: the settings each service reads, with defaults.
function configurationTables() {
  const doc = read('docs/configuration.md');
  const tables = {};
  for (const svc of C_SERVICES) {
    const at = doc.indexOf(`\n## ${svc}\n`);
    assert.ok(at >= 0, `docs/configuration.md has no section for ${svc}`);
    const rest = doc.slice(at + 1);
    const next = rest.indexOf('\n## ', 1);
    const section = next < 0 ? rest : rest.slice(0, next);
    tables[svc] = {};
    for (const [, name, def] of section.matchAll(/^\| `(RAP_[A-Z0-9_]+)` \| `([^`]*)` \|/gm)) tables[svc][name] = def;
  }
  return tables;
}

// The pools and their queues, from the registry's outputs.
function registryQueues() {
  const doc = read('docs/job-types.md');
  const pools = {};
  for (const [, pool, queue] of doc.matchAll(/^\| `([a-z]+)` \| `(jobs\.[^`]+)` \| \d+ \|/gm)) pools[pool] = queue;
  return pools;
}

function definitions() {
  return JSON.parse(read('infra/rabbitmq/definitions.json'));
}

// ---------------------------------------------------------------- object helpers

const kindOf = (o) => `${o.apiVersion}/${o.kind}`;
const byKind = (objs, kind) => objs.filter((o) => o.kind === kind);
const named = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const fullname = (comp) => `${RELEASE}-${comp}`;
const componentOf = (o) => o.metadata.labels?.['app.kubernetes.io/component'];
const matches = (selector, labels) => Object.entries(selector || {}).every(([k, v]) => labels?.[k] === v);

function podSpecs(objs) {
  return objs
    .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
    .map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, obj: o, pod: o.spec.template.spec }));
}

// ---------------------------------------------------------------- the tests

if (missing) {
  test('the deploy tools are installed', () => {
    assert.fail(`${missing}: run scripts/deploy-tools.sh first (RAP_DEPLOY_TOOLS=${TOOLS})`);
  });
} else {
  helmEnv = {
    PATH: process.env.PATH,
    HOME: work,
    KUBECONFIG: writeDummyKubeconfig(),
    HELM_CACHE_HOME: path.join(work, 'cache'),
    HELM_CONFIG_HOME: path.join(work, 'config'),
    HELM_DATA_HOME: path.join(work, 'data'),
    HELM_KUBEAPISERVER: 'https://127.0.0.1:9',
    HTTP_PROXY: 'http://127.0.0.1:9',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '',
  };
  wrapper = isolation();
  const models = loadModels();
  const config = configurationTables();
  const pools = registryQueues();
  const rendered = new Map(); // scenario name -> { objs, stderr }

  test('helm is the pinned 3.17 and runs with no route to a cluster', (t) => {
    const r = helm(['version', '--template', '{{.Version}}']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^v3\.17\./);
    if (wrapper.length) {
      // Inside the namespace there is no route: not even loopback is up.
      const probe = spawnSync(wrapper[0], [...wrapper.slice(1), 'cat', '/proc/net/route'], { encoding: 'utf8' });
      assert.equal(probe.stdout.trim().split('\n').length, 1, 'the network namespace has routes');
      t.diagnostic(`helm runs under: ${wrapper.join(' ')}, KUBECONFIG=${helmEnv.KUBECONFIG}`);
    } else {
      t.diagnostic('no network namespace could be made here: helm runs with the dummy KUBECONFIG '
        + `(${helmEnv.KUBECONFIG}, server https://127.0.0.1:9) and a dead proxy only`);
    }
  });

  test('every values file is rendered by a scenario', () => {
    const used = new Set(SCENARIOS.flatMap((s) => s.files));
    const files = readdirSync(VALUES).filter((f) => f.endsWith('.yaml'));
    assert.deepEqual(files.filter((f) => !used.has(f)), [], 'values files no scenario renders');
  });

  for (const sc of SCENARIOS) {
    test(`helm lint: ${sc.name}`, () => {
      const r = helm(['lint', '--strict', CHART, '--namespace', NAMESPACE, ...valuesArgs(sc.files)]);
      assert.equal(r.status, 0, `helm lint failed:\n${r.stdout}\n${r.stderr}`);
    });

    test(`helm template: ${sc.name}`, async (t) => {
      const r = render(sc.files);
      assert.equal(r.status, 0, `helm template failed:\n${r.stderr}`);
      const objs = parseAll(r.stdout);
      rendered.set(sc.name, { objs, stderr: r.stderr });
      const kinds = {};
      for (const o of objs) kinds[o.kind] = (kinds[o.kind] || 0) + 1;
      t.diagnostic(`${objs.length} objects: ${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')}`);

      await t.test('every object is valid for its schema, with no unknown field', () => {
        const problems = [];
        for (const o of objs) {
          const Model = models[kindOf(o)];
          const where = `${o.kind}/${o.metadata?.name}`;
          if (!Model) {
            problems.push(`${where}: no schema model for ${kindOf(o)} (add it to loadModels)`);
            continue;
          }
          const model = new Model(o);
          try {
            model.validate();
          } catch (e) {
            problems.push(`${where}: ${e.message}`);
            continue;
          }
          for (const f of unknownFields(model)) problems.push(`${where}: unknown field ${f}`);
        }
        assert.deepEqual(problems, []);
      });

      await t.test('names are unique per kind and no Secret is rendered', () => {
        const seen = new Set();
        for (const o of objs) {
          const key = `${o.kind}/${o.metadata.name}`;
          assert.ok(!seen.has(key), `${key} rendered twice`);
          seen.add(key);
        }
        assert.deepEqual(byKind(objs, 'Secret'), [], 'the chart renders no Secret: credentials come from existing ones');
      });

      await t.test('every pod runs non-root, read-only, with no capability and RuntimeDefault seccomp', () => {
        for (const { owner, obj, pod } of podSpecs(objs)) {
          const psc = pod.securityContext || {};
          assert.equal(psc.runAsNonRoot, true, `${owner}: pod runAsNonRoot`);
          assert.equal(psc.runAsUser, 10001, `${owner}: pod runs as the images' user, 10001`);
          assert.equal(psc.seccompProfile?.type, 'RuntimeDefault', `${owner}: pod seccompProfile`);
          assert.equal(pod.automountServiceAccountToken, false, `${owner}: no service account token`);
          assert.equal(pod.hostNetwork ?? false, false, `${owner}: hostNetwork`);
          // Service links would set RAP_NOTIFIER_PORT=tcp://... and
          // RAP_WORKER_PORT=tcp://... from the Services rap-notifier and
          // rap-worker: names the services read as their own settings.
          assert.equal(pod.enableServiceLinks, false, `${owner}: enableServiceLinks`);
          // observability/loki/promtail-kubernetes.yml keeps the pods with this label.
          assert.equal(obj.spec.template.metadata.labels['app.kubernetes.io/part-of'], 'rap', `${owner}: part-of label`);
          for (const c of [...(pod.initContainers || []), ...pod.containers]) {
            const sc = c.securityContext || {};
            const at = `${owner} container ${c.name}`;
            assert.equal(sc.runAsNonRoot, true, `${at}: runAsNonRoot`);
            assert.ok((sc.runAsUser ?? psc.runAsUser) > 0, `${at}: runAsUser`);
            assert.equal(sc.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`);
            assert.equal(sc.allowPrivilegeEscalation, false, `${at}: allowPrivilegeEscalation`);
            assert.notEqual(sc.privileged, true, `${at}: privileged`);
            assert.ok(sc.capabilities?.drop?.includes('ALL'), `${at}: capabilities drop ALL`);
            assert.deepEqual(sc.capabilities?.add ?? [], [], `${at}: capabilities added`);
            assert.equal((sc.seccompProfile ?? psc.seccompProfile)?.type, 'RuntimeDefault', `${at}: seccompProfile`);
            const tmp = (c.volumeMounts || []).find((m) => m.mountPath === '/tmp');
            assert.ok(tmp, `${at}: /tmp is mounted (the root file system is read-only)`);
            assert.ok(pod.volumes.find((v) => v.name === tmp.name)?.emptyDir, `${at}: /tmp is an emptyDir`);
          }
        }
      });

      await t.test('every Deployment: probes, resources, rolling updates that keep capacity, a PDB', () => {
        const pdbs = byKind(objs, 'PodDisruptionBudget');
        for (const d of byKind(objs, 'Deployment')) {
          const comp = componentOf(d);
          const at = `Deployment/${d.metadata.name}`;
          assert.ok(SERVICES.includes(comp), `${at}: component label ${comp}`);
          assert.equal(d.spec.strategy?.type, 'RollingUpdate', `${at}: strategy`);
          assert.equal(d.spec.strategy.rollingUpdate?.maxUnavailable, 0, `${at}: maxUnavailable 0`);
          const labels = d.spec.template.metadata.labels;
          assert.ok(matches(d.spec.selector.matchLabels, labels), `${at}: selector matches its pods`);
          for (const c of d.spec.template.spec.containers) {
            const ports = new Set((c.ports || []).map((p) => p.name));
            for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
              const probe = c[kind];
              assert.ok(probe?.httpGet, `${at}: ${c.name} has an HTTP ${kind}`);
              assert.ok(ports.has(probe.httpGet.port), `${at}: ${kind} port ${probe.httpGet.port} is a named port`);
              // Off the main port: a flood of idle connections there does
              // not fail the probes (issue 15, point 3).
              if (['upload-api', 'job-api', 'notifier'].includes(comp)) {
                assert.equal(probe.httpGet.port, 'admin', `${at}: ${kind} on the admin port`);
              }
            }
            assert.equal(c.livenessProbe.httpGet.path, '/healthz', `${at}: liveness on /healthz`);
            assert.equal(c.startupProbe.httpGet.path, '/healthz', `${at}: startup on /healthz`);
            // The C services answer /readyz (their dependencies); nginx has none.
            assert.equal(c.readinessProbe.httpGet.path, comp === 'gateway' ? '/healthz' : '/readyz',
              `${at}: readiness path`);
            assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${at}: requests`);
            assert.ok(c.resources?.limits?.memory, `${at}: memory limit`);
            if (comp !== 'worker') {
              assert.ok(c.lifecycle?.preStop, `${at}: preStop lets the endpoints drop it before SIGTERM`);
            }
          }
          const covering = pdbs.filter((p) => matches(p.spec.selector.matchLabels, labels));
          assert.equal(covering.length, 1, `${at}: exactly one PodDisruptionBudget covers it`);
          assert.ok(covering[0].spec.maxUnavailable >= 1 || covering[0].spec.minAvailable !== undefined,
            `${at}: its PDB allows an eviction`);
        }
        for (const p of pdbs) {
          assert.ok(byKind(objs, 'Deployment').some((d) => matches(p.spec.selector.matchLabels,
            d.spec.template.metadata.labels)), `PodDisruptionBudget/${p.metadata.name} covers no Deployment`);
        }
      });

      await t.test('images, commands and Services of the five services', () => {
        for (const d of byKind(objs, 'Deployment')) {
          const comp = componentOf(d);
          const c = d.spec.template.spec.containers[0];
          assert.match(c.image, new RegExp(`/rap-${comp}:[^/]+$`), `Deployment/${d.metadata.name}: image`);
          if (comp !== 'gateway') {
            assert.deepEqual(c.command, [`/usr/local/bin/rap-${comp}`], `Deployment/${d.metadata.name}: binary`);
          }
          assert.equal(d.spec.template.spec.serviceAccountName, fullname(comp),
            `Deployment/${d.metadata.name}: its own ServiceAccount`);
        }
        for (const comp of SERVICES) {
          assert.ok(named(objs, 'ServiceAccount', fullname(comp)), `ServiceAccount ${fullname(comp)}`);
          const svc = named(objs, 'Service', fullname(comp));
          assert.ok(svc, `Service ${fullname(comp)}`);
          assert.equal(svc.spec.type, 'ClusterIP', `Service ${fullname(comp)} is ClusterIP`);
          const pods = byKind(objs, 'Deployment').filter((d) => matches(svc.spec.selector, d.spec.template.metadata.labels));
          assert.ok(pods.length >= 1, `Service ${fullname(comp)} selects no Deployment`);
          assert.ok(pods.every((d) => componentOf(d) === comp), `Service ${fullname(comp)} selects other services' pods`);
        }
        const ports = { 'upload-api': 8101, 'job-api': 8102, notifier: 8103, gateway: 8080, worker: 8104 };
        for (const [comp, port] of Object.entries(ports)) {
          assert.equal(named(objs, 'Service', fullname(comp)).spec.ports[0].port, port, `${comp} port`);
        }
      });

      await t.test('settings: names docs/configuration.md gives each service, secrets only by secretKeyRef', () => {
        for (const comp of C_SERVICES) {
          const cm = named(objs, 'ConfigMap', fullname(comp));
          assert.ok(cm, `ConfigMap ${fullname(comp)}`);
          for (const k of Object.keys(cm.data)) {
            assert.ok(k in config[comp], `ConfigMap ${fullname(comp)}: ${k} is not a setting of ${comp} `
              + '(docs/configuration.md)');
            assert.ok(!SECRET_SETTINGS.includes(k), `ConfigMap ${fullname(comp)}: ${k} is secret`);
          }
          assert.equal(cm.data.RAP_BIND, '0.0.0.0', `${comp} listens on the pod's address`);
          for (const [k, v] of Object.entries(cm.data)) {
            assert.doesNotMatch(v, /^[\d.]+e[+-]?\d+$/, `ConfigMap ${fullname(comp)}: ${k} printed as a float`);
          }
          for (const d of byKind(objs, 'Deployment').filter((x) => componentOf(x) === comp)) {
            const c = d.spec.template.spec.containers[0];
            assert.deepEqual(c.envFrom, [{ configMapRef: { name: fullname(comp) } }]);
            for (const e of c.env || []) {
              assert.ok(e.name in config[comp], `Deployment/${d.metadata.name}: ${e.name} is not a setting of ${comp}`);
              if (SECRET_SETTINGS.includes(e.name)) {
                assert.ok(e.valueFrom?.secretKeyRef?.name && e.valueFrom.secretKeyRef.key && e.value === undefined,
                  `Deployment/${d.metadata.name}: ${e.name} comes from an existing Secret`);
              }
            }
            const names = new Set((c.env || []).map((e) => e.name));
            assert.ok(names.has('RAP_PG_URL'), `Deployment/${d.metadata.name}: RAP_PG_URL`);
            if (comp !== 'upload-api') assert.ok(names.has('RAP_AMQP_URL'), `Deployment/${d.metadata.name}: RAP_AMQP_URL`);
            if (comp !== 'notifier') {
              assert.ok(names.has('RAP_S3_ACCESS_KEY') && names.has('RAP_S3_SECRET_KEY'),
                `Deployment/${d.metadata.name}: S3 keys`);
            }
          }
        }
        const defs = definitions();
        const cm = named(objs, 'ConfigMap', fullname('amqp-definitions'));
        assert.deepEqual(JSON.parse(cm.data['definitions.json']),
          { exchanges: defs.exchanges, queues: defs.queues, bindings: defs.bindings },
          'the definitions the services declare are infra/rabbitmq/definitions.json\'s');
      });

      await t.test('workers: one Deployment per pool, on its own queue, grace longer than the lease', () => {
        const workers = byKind(objs, 'Deployment').filter((d) => componentOf(d) === 'worker');
        const cm = named(objs, 'ConfigMap', fullname('worker'));
        const served = [];
        for (const d of workers) {
          const c = d.spec.template.spec.containers[0];
          const env = Object.fromEntries((c.env || []).filter((e) => 'value' in e).map((e) => [e.name, e.value]));
          assert.ok(env.RAP_WORKER_POOLS && !env.RAP_WORKER_POOLS.includes(','), `Deployment/${d.metadata.name}: one pool`);
          served.push(env.RAP_WORKER_POOLS);
          const lease = Number(env.RAP_LEASE_SECONDS ?? cm.data.RAP_LEASE_SECONDS ?? config.worker.RAP_LEASE_SECONDS);
          assert.ok(lease > 0, 'the lease is known');
          assert.ok(d.spec.template.spec.terminationGracePeriodSeconds > lease,
            `Deployment/${d.metadata.name}: terminationGracePeriodSeconds `
            + `${d.spec.template.spec.terminationGracePeriodSeconds} is not longer than the lease ${lease}`);
          const scratch = c.volumeMounts.find((m) => m.mountPath === (cm.data.RAP_WORKER_SCRATCH_DIR));
          assert.ok(scratch, `Deployment/${d.metadata.name}: RAP_WORKER_SCRATCH_DIR is a mounted volume`);
        }
        assert.deepEqual(served.sort(), servedPools(sc).sort(), 'a worker Deployment per pool of the registry');
        const virus = workers.find((d) => d.metadata.name === `${fullname('worker')}-virus`);
        assert.equal(Boolean(virus), Boolean(sc.virus), 'the virus pool is opt-in');
        if (virus) {
          // ClamAV's signatures: the claim, read-only, where RAP_CLAMAV_DB says.
          const c = virus.spec.template.spec.containers[0];
          const db = c.env.find((e) => e.name === 'RAP_CLAMAV_DB').value;
          const mount = c.volumeMounts.find((m) => m.mountPath === db);
          assert.ok(mount?.readOnly, 'the signatures are mounted read-only at RAP_CLAMAV_DB');
          const vol = virus.spec.template.spec.volumes.find((v) => v.name === mount.name);
          assert.equal(vol.persistentVolumeClaim.claimName, 'rap-clamav-db');
          assert.equal(vol.persistentVolumeClaim.readOnly, true);
          assert.match(cm.data.RAP_JOB_TYPES, /(^|,)virus\.scan(,|$)/);
        }
      });

      await t.test(`KEDA is ${sc.keda ? 'on' : 'off'}: ScaledObjects on the work queues only`, () => {
        const scaled = byKind(objs, 'ScaledObject');
        const auths = byKind(objs, 'TriggerAuthentication');
        const hpas = byKind(objs, 'HorizontalPodAutoscaler');
        const targets = new Set([...scaled.map((s) => s.spec.scaleTargetRef.name),
          ...hpas.map((h) => h.spec.scaleTargetRef.name)]);
        for (const d of byKind(objs, 'Deployment')) {
          if (targets.has(d.metadata.name)) {
            assert.equal(d.spec.replicas, undefined, `Deployment/${d.metadata.name} is autoscaled and sets replicas`);
          } else {
            assert.ok(Number.isInteger(d.spec.replicas), `Deployment/${d.metadata.name} sets no replicas and has no autoscaler`);
          }
        }
        assert.deepEqual(hpas.map((h) => componentOf(h)).sort(), [...(sc.hpas || [])].sort(), 'HPAs');
        for (const h of hpas) {
          assert.equal(h.spec.metrics[0].resource?.name, 'cpu', `HorizontalPodAutoscaler/${h.metadata.name} on CPU`);
        }
        if (!sc.keda) {
          assert.deepEqual([...scaled, ...auths], [], 'KEDA objects while KEDA is off');
          return;
        }
        const workQueues = new Set(definitions().queues.map((q) => q.name).filter((n) => n.startsWith('jobs.work.')));
        const watched = [];
        for (const s of scaled) {
          const at = `ScaledObject/${s.metadata.name}`;
          const target = named(objs, 'Deployment', s.spec.scaleTargetRef.name);
          assert.ok(target && componentOf(target) === 'worker', `${at}: scales a worker Deployment`);
          assert.ok(s.spec.minReplicaCount <= s.spec.maxReplicaCount, `${at}: min <= max`);
          assert.ok(s.spec.cooldownPeriod >= 0 && s.spec.pollingInterval > 0, `${at}: cooldown and polling`);
          if (sc.scaleToZero) assert.equal(s.spec.minReplicaCount, 0, `${at}: scales to zero`);
          const down = s.spec.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown;
          assert.ok(down?.stabilizationWindowSeconds > 0, `${at}: scale-down waits out a stabilization window`);
          assert.equal(s.spec.triggers.length, 1, `${at}: one trigger`);
          const [tr] = s.spec.triggers;
          assert.equal(tr.type, 'rabbitmq', `${at}: trigger type`);
          const unknown = Object.keys(tr.metadata).filter((k) => !RABBITMQ_TRIGGER_KEYS.has(k));
          assert.deepEqual(unknown, [], `${at}: metadata keys KEDA's rabbitmq scaler does not know`);
          assert.match(tr.metadata.mode, /^(QueueLength|MessageRate)$/, `${at}: mode`);
          assert.match(tr.metadata.protocol, /^(amqp|http|auto)$/, `${at}: protocol`);
          if (sc.scaleToZero) assert.equal(tr.metadata.protocol, 'http', `${at}: counts unacked messages too`);
          assert.equal(tr.metadata.value, '10', `${at}: more than ten messages per worker scale up`);
          assert.match(tr.metadata.activationValue, /^\d+(\.\d+)?$/, `${at}: activationValue`);
          assert.ok(tr.metadata.vhostName, `${at}: vhostName`);
          assert.ok(!tr.metadata.host, `${at}: no host (and no credentials) in the trigger`);
          assert.doesNotMatch(tr.metadata.queueName, /^jobs\.retry/, `${at}: watches a retry queue`);
          assert.ok(workQueues.has(tr.metadata.queueName), `${at}: ${tr.metadata.queueName} is not a work queue`);
          const env = Object.fromEntries(target.spec.template.spec.containers[0].env
            .filter((e) => 'value' in e).map((e) => [e.name, e.value]));
          assert.equal(tr.metadata.queueName, `jobs.work.${env.RAP_WORKER_POOLS}`,
            `${at}: watches the queue of the pool its Deployment serves`);
          watched.push(tr.metadata.queueName);
          const auth = named(objs, 'TriggerAuthentication', tr.authenticationRef?.name);
          assert.ok(auth, `${at}: its TriggerAuthentication is rendered`);
          const params = auth.spec.secretTargetRef.map((r) => r.parameter);
          assert.ok(params.includes('host'), `${at}: the broker's URL comes from a Secret`);
          assert.deepEqual(params.filter((p) => !RABBITMQ_AUTH_PARAMS.has(p)), [],
            `TriggerAuthentication/${auth.metadata.name}: parameters the rabbitmq scaler does not know`);
        }
        assert.deepEqual(watched.sort(), servedPools(sc).map((p) => pools[p]).sort(), 'a ScaledObject per pool queue');
      });

      await t.test(`Istio is ${sc.istio ? 'on' : 'off'}: mTLS STRICT, each service open to its callers only`, () => {
        const istio = objs.filter((o) => /\.istio\.io\//.test(o.apiVersion));
        if (!sc.istio) {
          assert.deepEqual(istio.map((o) => `${o.kind}/${o.metadata.name}`), [], 'Istio objects while Istio is off');
          for (const d of byKind(objs, 'Deployment')) {
            assert.equal(d.spec.template.metadata.annotations?.['proxy.istio.io/config'], undefined);
          }
          return;
        }
        const deployments = byKind(objs, 'Deployment');
        const [peer, ...more] = byKind(objs, 'PeerAuthentication');
        assert.deepEqual(more, [], 'one PeerAuthentication');
        assert.equal(peer.spec.mtls.mode, 'STRICT');
        for (const d of deployments) {
          assert.ok(matches(peer.spec.selector.matchLabels, d.spec.template.metadata.labels),
            `PeerAuthentication does not cover Deployment/${d.metadata.name}`);
        }
        const drs = byKind(objs, 'DestinationRule');
        assert.deepEqual(drs.map((r) => r.spec.host).sort(), byKind(objs, 'Service').map((s) => s.metadata.name).sort(),
          'a DestinationRule per Service');
        for (const r of drs) assert.equal(r.spec.trafficPolicy.tls.mode, 'ISTIO_MUTUAL');

        const sa = (comp) => `cluster.local/ns/${NAMESPACE}/sa/${named(objs, 'ServiceAccount', fullname(comp)).metadata.name}`;
        const gw = sa('gateway');
        const ingress = ['cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'];
        const prometheus = ['cluster.local/ns/monitoring/sa/prometheus-k8s'];
        // Who calls whom: the gateway calls the APIs and the notifier;
        // nobody calls a worker; the services call nothing in the chart.
        const expected = {
          gateway: { callers: ingress, port: '8080', metrics: null },
          'upload-api': { callers: [gw], port: '8101', metrics: '8180' },
          'job-api': { callers: [gw], port: '8102', metrics: '8181' },
          notifier: { callers: [gw], port: '8103', metrics: '8190' },
          worker: { callers: [], port: null, metrics: '8104' },
        };
        const policies = byKind(objs, 'AuthorizationPolicy');
        assert.deepEqual(policies.map(componentOf).sort(), Object.keys(expected).sort(), 'an AuthorizationPolicy per service');
        for (const p of policies) {
          const comp = componentOf(p);
          const want = expected[comp];
          const at = `AuthorizationPolicy/${p.metadata.name}`;
          assert.equal(p.spec.action, 'ALLOW', `${at}: ALLOW (everything else is denied)`);
          const pods = deployments.filter((d) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
          assert.ok(pods.length && pods.every((d) => componentOf(d) === comp), `${at}: selects the ${comp} pods only`);
          const named_ = new Set();
          for (const rule of p.spec.rules) {
            assert.ok(rule.from?.length, `${at}: a rule without from lets anyone in`);
            const principals = rule.from.flatMap((f) => {
              assert.deepEqual(Object.keys(f.source).sort(), ['principals'], `${at}: callers by principal only`);
              return f.source.principals;
            });
            principals.forEach((x) => named_.add(x));
            const ops = rule.to.map((x) => x.operation);
            if (principals.every((x) => prometheus.includes(x))) {
              assert.deepEqual(ops, [{ ports: [want.metrics], methods: ['GET'], paths: ['/metrics'] }],
                `${at}: Prometheus gets GET /metrics on the metrics port only`);
            } else {
              assert.deepEqual(principals.sort(), [...want.callers].sort(), `${at}: callers`);
              assert.deepEqual(ops, [{ ports: [want.port] }], `${at}: the callers reach the service port only`);
            }
          }
          const wantAll = [...want.callers, ...(want.metrics ? prometheus : [])].sort();
          assert.deepEqual([...named_].sort(), wantAll, `${at}: names exactly the callers it must`);
        }
      });

      await t.test(`Prometheus operator objects are ${sc.monitoring ? 'on' : 'off'}`, () => {
        const mon = objs.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/')
          || o.metadata.labels?.grafana_dashboard);
        if (!sc.monitoring) {
          assert.deepEqual(mon.map((o) => `${o.kind}/${o.metadata.name}`), []);
          return;
        }
        const sms = byKind(objs, 'ServiceMonitor');
        assert.deepEqual(sms.map(componentOf).sort(), [...C_SERVICES].sort(), 'a ServiceMonitor per service with /metrics');
        for (const sm of sms) {
          const svc = byKind(objs, 'Service').find((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels));
          assert.ok(svc, `ServiceMonitor/${sm.metadata.name} selects no Service`);
          assert.equal(svc.metadata.labels[sm.spec.jobLabel], `rap-${componentOf(sm)}`,
            `ServiceMonitor/${sm.metadata.name}: the Prometheus job the rules expect`);
          // The metrics port of each service: the admin ports of upload-api,
          // job-api and the notifier (off a main port a flood may fill, and
          // off the WebSocket loop), the one port Istio lets Prometheus reach.
          const metricsPort = { 'upload-api': 8180, 'job-api': 8181, notifier: 8190, worker: 8104 }[componentOf(sm)];
          for (const ep of sm.spec.endpoints) {
            const port = svc.spec.ports.find((p) => p.name === ep.port);
            assert.ok(port, `ServiceMonitor/${sm.metadata.name}: port ${ep.port}`);
            assert.equal(port.port, metricsPort, `ServiceMonitor/${sm.metadata.name}: scrapes the metrics port`);
            assert.equal(ep.path, '/metrics');
            if (sc.istio) {
              assert.equal(ep.scheme, 'https', `ServiceMonitor/${sm.metadata.name}: through Istio's mTLS`);
              assert.ok(ep.tlsConfig?.certFile && ep.tlsConfig.keyFile, `ServiceMonitor/${sm.metadata.name}: Istio's certificates`);
            }
          }
        }
        // One source, no copy: what the chart rendered is the repository's file.
        const rules = byKind(objs, 'PrometheusRule');
        assert.equal(rules.length, 1, 'a PrometheusRule per rules file');
        assert.deepEqual(rules[0].spec.groups, YAML.parse(read('observability/prometheus/rules/rap.rules.yml')).groups,
          'the PrometheusRule is observability/prometheus/rules/rap.rules.yml');
        const dash = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
        assert.equal(dash?.data?.['rap-overview.json'], read('observability/grafana/dashboards/rap-overview.json'),
          'the dashboard ConfigMap holds observability/grafana/dashboards/rap-overview.json as it is');
        // And helm really went through the symlinks to get them.
        const { stderr } = rendered.get(sc.name);
        for (const link of ['files/rules', 'files/dashboards']) {
          assert.match(stderr, new RegExp(`symbolic link in path: \\S+/infra/helm/rap/${link} resolves to`),
            `helm did not follow ${link}`);
        }
      });

      await t.test('migrations: one hook Job before install and upgrade, rap-job-api --migrate', () => {
        const [job, ...more] = byKind(objs, 'Job');
        assert.deepEqual(more, []);
        const a = job.metadata.annotations;
        assert.equal(a['helm.sh/hook'], 'pre-install,pre-upgrade');
        assert.equal(a['helm.sh/hook-delete-policy'], 'before-hook-creation,hook-succeeded');
        const c = job.spec.template.spec.containers[0];
        assert.deepEqual(c.command, ['/usr/local/bin/rap-job-api', '--migrate']);
        assert.match(c.image, /\/rap-job-api:/);
        assert.equal(job.spec.template.spec.restartPolicy, 'Never');
        // Hooks run before the release's objects exist: no ConfigMap, no
        // chart ServiceAccount may be needed.
        assert.equal(c.envFrom, undefined, 'the migration Job reads no ConfigMap of the release');
        for (const e of c.env) assert.ok(e.name in config['job-api'], `the migration Job: ${e.name} is not job-api's`);
        assert.ok(c.env.find((e) => e.name === 'RAP_PG_URL')?.valueFrom?.secretKeyRef, 'RAP_PG_URL from its Secret');
        assert.equal(job.spec.template.spec.serviceAccountName, undefined);
        assert.equal(job.spec.template.metadata.annotations['sidecar.istio.io/inject'], 'false');
      });
    });
  }

  test('the queues agree: ScaledObjects, RabbitMQ definitions, the job-type registry', (t) => {
    const defs = definitions();
    const queues = defs.queues.map((q) => q.name);
    const work = queues.filter((n) => n.startsWith('jobs.work.'));
    assert.ok(Object.keys(pools).length >= 1, 'docs/job-types.md lists the pools');
    assert.deepEqual(Object.values(pools).sort(), work.sort(), 'pools of docs/job-types.md vs work queues of definitions.json');
    for (const [pool, queue] of Object.entries(pools)) {
      assert.equal(queue, `jobs.work.${pool}`, `the queue of pool ${pool}`);
      assert.ok(defs.bindings.some((b) => b.source === 'jobs' && b.destination === queue),
        `definitions.json binds nothing from jobs to ${queue}`);
    }
    assert.ok(queues.some((n) => n.startsWith('jobs.retry.')), 'definitions.json has its retry queues');
    // The registry itself, when it is built (scripts/gen-registry writes the
    // two files above from it; tests/contract/registry.test.mjs holds them to it).
    const tool = path.join(process.env.RAP_BUILD_DIR || path.join(ROOT, 'build'), 'rap-registry');
    if (existsSync(tool)) {
      const printed = JSON.parse(execFileSync(tool, ['definitions'], { encoding: 'utf8' }));
      assert.deepEqual(printed.queues.map((q) => q.name).filter((n) => n.startsWith('jobs.work.')).sort(), work.sort(),
        'build/rap-registry prints other work queues: run scripts/gen-registry');
    } else {
      t.diagnostic(`no ${tool}: compared docs/job-types.md and definitions.json only`);
    }
    for (const sc of SCENARIOS.filter((s) => s.keda)) {
      const got = byKind(rendered.get(sc.name)?.objs || [], 'ScaledObject').map((s) => s.spec.triggers[0].metadata.queueName);
      const want = work.filter((q) => q !== 'jobs.work.virus' || sc.virus); // the virus pool is opt-in
      assert.deepEqual(got.sort(), want.sort(), `${sc.name}: ScaledObject queues vs work queues`);
    }
  });

  test('the gateway\'s nginx.conf, rendered from infra/nginx/nginx.conf.template, passes nginx -t', (t) => {
    const cm = named(rendered.get('production').objs, 'ConfigMap', fullname('gateway'));
    const conf = cm.data['nginx.conf'];
    assert.doesNotMatch(conf, /@[A-Z_]+@/, 'a token of the template is left');
    assert.match(conf, /^\s*listen 8080;/m);
    for (const comp of ['upload-api', 'job-api', 'notifier']) {
      assert.match(conf, new RegExp(`server ${fullname(comp)}:\\d+;`), `upstream ${comp}`);
    }
    const nginx = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
    if (nginx.status !== 0) {
      t.diagnostic('no nginx here: the config was checked for its tokens and upstreams only');
      return;
    }
    // Upstream names resolve only in the cluster, and /tmp is the pod's:
    // point both at this machine for the syntax check.
    const dir = mkdtempSync(path.join(work, 'nginx-'));
    const local = conf.replace(new RegExp(`${RELEASE}-(upload-api|job-api|notifier):`, 'g'), '127.0.0.1:')
      .replaceAll('/tmp/', `${dir}/`);
    writeFileSync(path.join(dir, 'nginx.conf'), local);
    // Its access log is /dev/stdout, which cannot be opened on the socket
    // node gives a child: a file stands in for the container's stdout.
    const out = openSync(path.join(dir, 'stdout'), 'w');
    const r = spawnSync('nginx', ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr'],
      { encoding: 'utf8', stdio: ['ignore', out, 'pipe'] });
    closeSync(out);
    assert.equal(r.status, 0, `nginx -t:\n${r.stderr}`);
  });

  test('the values schema refuses what the chart must not take', () => {
    const refused = [
      [['--set', 'settings.RAP_PG_URL=postgresql://x'], /RAP_PG_URL/],
      [['--set', 'uploadApi.settings.RAP_UPLOAD_PORT=9000'], /RAP_UPLOAD_PORT/],
      [['--set', 'podSecurity.runAsUser=0'], /runAsUser/],
      [['--set', 'keda.rabbitmq.mode=MessageRate'], /mode/],
      [['--set', 'no.such=value'], /Additional property no is not allowed/],
      [['--set', 'worker.settings.RAP_LEASE_SECONDS=120'], /longer than the lease/],
      [['--set', 'keda.enabled=true', '--set', 'keda.rabbitmq.protocol=http'], /managementUrlSecret/],
      [['--set', 'worker.pools.virus.enabled=true'], /clamav\.database\.existingClaim/],
      [['--set', 'worker.pools.virus.enabled=true', '--set', 'clamav.database.existingClaim=db'],
        /does not name virus\.scan/],
    ];
    for (const [args, why] of refused) {
      const r = render(['minimal.yaml'], args);
      assert.notEqual(r.status, 0, `helm template ${args.join(' ')} was accepted`);
      assert.match(r.stderr, why, `helm template ${args.join(' ')}: ${r.stderr}`);
    }
  });

  test('whole numbers of a values file reach the services as integers', () => {
    // Helm reads values files through JSON: 21474836480 arrives as a float,
    // which a plain toString prints as 2.147483648e+10.
    const file = path.join(work, 'numbers.yaml');
    writeFileSync(file, YAML.stringify({
      uploadApi: { settings: { RAP_UPLOAD_MAX_BYTES: 21474836480, RAP_UPLOAD_PART_SIZE: 16777216 } },
      worker: { settings: { RAP_LEASE_SECONDS: 20 }, pools: { data: { settings: { RAP_WORKER_ACK_AFTER_MS: 1200000 } } } },
    }));
    const r = helm(['template', RELEASE, CHART, '--namespace', NAMESPACE, '-f', file]);
    assert.equal(r.status, 0, r.stderr);
    const objs = parseAll(r.stdout);
    const upload = named(objs, 'ConfigMap', fullname('upload-api')).data;
    assert.equal(upload.RAP_UPLOAD_MAX_BYTES, '21474836480');
    assert.equal(upload.RAP_UPLOAD_PART_SIZE, '16777216');
    assert.equal(named(objs, 'ConfigMap', fullname('worker')).data.RAP_LEASE_SECONDS, '20');
    const data = named(objs, 'Deployment', `${fullname('worker')}-data`).spec.template.spec.containers[0].env;
    assert.equal(data.find((e) => e.name === 'RAP_WORKER_ACK_AFTER_MS').value, '1200000');
    const conf = named(objs, 'ConfigMap', fullname('gateway')).data['nginx.conf'];
    assert.match(conf, /client_max_body_size 21474902016;/, 'the gateway takes the upload limit plus 64 KiB');
  });

  test('the checkers catch what they are for', () => {
    // An unknown field at several depths, in a model of each package style.
    const Deployment = models['apps/v1/Deployment'];
    const good = parseAll(render(['minimal.yaml']).stdout).find((o) => o.kind === 'Deployment');
    const bad = structuredClone(good);
    bad.spec.template.spec.containers[0].securityContxt = {};
    bad.spec.template.spec.containers[0].securityContext.runAsNonRot = true;
    bad.spec.replicaz = 1;
    assert.deepEqual(unknownFields(new Deployment(good)), []);
    assert.deepEqual(unknownFields(new Deployment(bad)).sort(), ['spec.replicaz',
      'spec.template.spec.containers[0].securityContext.runAsNonRot',
      'spec.template.spec.containers[0].securityContxt']);
    const AP = models['security.istio.io/v1beta1/AuthorizationPolicy'];
    assert.deepEqual(unknownFields(new AP({ metadata: { name: 'x' },
      spec: { rules: [{ from: [{ source: { principal: ['a'] } }] }] } })), ['spec.rules[0].from[0].source.principal']);
    const SO = models['keda.sh/v1alpha1/ScaledObject'];
    assert.deepEqual(unknownFields(new SO({ metadata: { name: 'x' }, spec: { scaleTargetRef: { name: 'd' },
      minReplicaCount: 0, cooldownPerod: 1, triggers: [{ type: 'rabbitmq', metadata: { queueName: 'q' } }] } })),
    ['spec.cooldownPerod']);
    const SM = models['monitoring.coreos.com/v1/ServiceMonitor'];
    assert.deepEqual(unknownFields(new SM({ metadata: { name: 'x' }, spec: { selector: {},
      endpoints: [{ port: 'http', pathh: '/metrics' }] } })), ['spec.endpoints[0].pathh']);
    // Metadata keys of the trigger are a free map to the schema: the
    // allow-list is what catches a misspelt one.
    assert.ok(!RABBITMQ_TRIGGER_KEYS.has('queuename') && !RABBITMQ_TRIGGER_KEYS.has('queueLength'));
  });
}
