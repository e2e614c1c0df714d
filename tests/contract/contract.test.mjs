// Contract tests for proto/: the JSON Schemas, their example instances, and
// the OpenAPI / AsyncAPI documents that point at them.
//
//   node --test tests/contract/
//
// Needs the npm packages ajv@8, ajv-formats@3 and yaml@2 in the repository's
// node_modules.  With RAP_CONTRACT_URL set (e.g. http://127.0.0.1:8080, the
// gateway of a running stack) it also checks real answers of that stack
// against the schemas; RAP_CONTRACT_KEY is the API key (default dev-key).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const PROTO = path.join(ROOT, 'proto');
const SCHEMAS = path.join(PROTO, 'schemas');
const EXAMPLES = path.join(HERE, 'examples');
const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';
const ID_BASE = 'https://rap.invalid/proto/schemas/';

const SCHEMA_FILES = [
  'error.json',
  'upload.json',
  'job-create-request.json',
  'job-created.json',
  'job-batch-request.json',
  'job-batch-created.json',
  'job.json',
  'job-webhook.json',
  'job-message.json',
  'job-status-event.json',
  'job-status-batch.json',
  'job-output.json',
  'job-type.json',
  'job-errors-page.json',
  'job-stats.json',
  'validate-result.json',
  'thumbnail-result.json',
  'pdf-text-result.json',
  'video-probe-result.json',
  'virus-scan-result.json',
  'job-progress.json',
  'ws-subscribe.json',
  'ws-server-message.json',
];

// Example file names are <target>.valid[.label].json or
// <target>.invalid[.label].json; a target is a schema file (without .json) or
// one of these named sub-schemas.
const TARGETS = Object.fromEntries([
  ...SCHEMA_FILES.map((f) => [f.replace(/\.json$/, ''), ID_BASE + f]),
  ['upload-created', ID_BASE + 'upload.json#/$defs/created'],
  ['upload-presigned', ID_BASE + 'upload.json#/$defs/presigned'],
  ['job-type-list', ID_BASE + 'job-type.json#/$defs/list'],
]);

// Why each invalid example must fail: one of the errors must have this
// keyword at this instance path (so an example cannot fail by accident).
const WHY = {
  'job-stats.invalid.rate-over-one.json': ['maximum', '/success_rate'],
  'job-stats.invalid.no-owner.json': ['required', ''],
  'job-progress.invalid.over-one.json': ['maximum', '/progress'],
  'error.invalid.no-request-id.json': ['required', ''],
  'error.invalid.envelope.json': ['required', ''],
  'job-webhook.invalid.not-final.json': ['enum', '/status'],
  'error.invalid.status-2xx.json': ['minimum', '/status'],
  'upload-created.invalid.unsanitized-filename.json': ['pattern', '/filename'],
  'upload-created.invalid.missing-sha256.json': ['required', ''],
  'upload.invalid.key-not-of-upload.json': ['pattern', '/object_key'],
  'upload.invalid.no-millis.json': ['pattern', '/created_at'],
  'job-create-request.invalid.unknown-field.json': ['additionalProperties', ''],
  'job-create-request.invalid.max-attempts.json': ['maximum', '/max_attempts'],
  'job-create-request.invalid.type-case.json': ['pattern', '/type'],
  'job-create-request.invalid.params-array.json': ['type', '/params'],
  'job-created.invalid.new-not-created.json': ['const', '/status'],
  'job-created.invalid.replay-false.json': ['const', '/idempotent_replay'],
  'job-batch-request.invalid.empty.json': ['minItems', '/jobs'],
  'job-batch-request.invalid.unknown-field-in-job.json': ['additionalProperties', '/jobs/0'],
  'job-batch-created.invalid.new-not-created.json': ['const', '/jobs/0/status'],
  'job.invalid.no-events.json': ['minItems', '/events'],
  'job.invalid.completed-without-result.json': ['type', '/result'],
  'job.invalid.unknown-state-in-event.json': ['enum', '/events/1/to'],
  'job.invalid.missing-null-field.json': ['required', ''],
  'job-message.invalid.v2.json': ['const', '/v'],
  'job-message.invalid.v-string.json': ['type', '/v'],
  'job-message.invalid.job-id-urn.json': ['pattern', '/job_id'],
  'job-message.invalid.no-object-key.json': ['required', ''],
  'job-status-event.invalid.replay-false.json': ['const', '/replay'],
  'job-status-event.invalid.no-detail.json': ['required', ''],
  'job-status-event.invalid.lower-case-state.json': ['enum', '/to'],
  'job-status-batch.invalid.one-event.json': ['minItems', '/events'],
  'upload-presigned.invalid.method-post.json': ['const', '/method'],
  'job-output.invalid.not-an-output.json': ['pattern', '/object_key'],
  'job-output.invalid.name-with-a-slash.json': ['pattern', '/name'],
  'job-type.invalid.unknown-input.json': ['enum', '/input'],
  'job-type.invalid.empty-content.json': ['minItems', '/content'],
  'job-type-list.invalid.no-limits.json': ['required', '/job_types/0'],
  'job-errors-page.invalid.row-zero.json': ['minimum', '/errors/0/row'],
  'job-errors-page.invalid.cursor.json': ['pattern', '/next'],
  'validate-result.invalid.no-counts.json': ['required', ''],
  'thumbnail-result.invalid.gif.json': ['enum', '/thumbnails/0/format'],
  'pdf-text-result.invalid.page-zero.json': ['minimum', '/pages/0/page'],
  'video-probe-result.invalid.stream-type.json': ['enum', '/streams/0/type'],
  'virus-scan-result.invalid.verdict.json': ['enum', '/verdict'],
  'ws-subscribe.invalid.no-api-key.json': ['required', ''],
  'ws-subscribe.invalid.job-id.json': ['pattern', '/job_id'],
  'ws-subscribe.invalid.since-string.json': ['type', '/since'],
  'ws-subscribe.invalid.unsubscribe.json': ['const', '/type'],
  'ws-server-message.invalid.error-code.json': ['enum', '/code'],
  'ws-server-message.invalid.subscribed-extra.json': ['additionalProperties', ''],
  'ws-server-message.invalid.unknown-type.json': ['oneOf', ''],
};

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function newAjv() {
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  addFormats(ajv);
  return ajv;
}

// One Ajv instance that knows every schema file under its $id.
function loadSchemas() {
  const ajv = newAjv();
  const schemas = {};
  for (const f of SCHEMA_FILES) {
    schemas[f] = readJson(path.join(SCHEMAS, f));
    ajv.addSchema(schemas[f]);
  }
  return { ajv, schemas };
}

function validator(ajv, target) {
  const v = ajv.getSchema(target);
  assert.ok(v, `no schema ${target}`);
  return v;
}

function errorsText(v) {
  return (v.errors || []).map((e) => `${e.instancePath || '/'} ${e.keyword}: ${e.message}`).join('; ');
}

// RFC 6901 JSON pointer inside a parsed document.
function pointer(doc, frag) {
  if (frag === '' || frag === '/') return frag === '' ? doc : doc[''];
  assert.ok(frag.startsWith('/'), `bad JSON pointer '${frag}'`);
  let node = doc;
  for (const raw of frag.slice(1).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

// Every {"$ref": ...} in a tree, with where it sits.
function collectRefs(node, at = '', out = []) {
  if (Array.isArray(node)) {
    node.forEach((v, i) => collectRefs(v, `${at}/${i}`, out));
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push({ ref: v, at });
      else collectRefs(v, `${at}/${k}`, out);
    }
  }
  return out;
}

function loadYaml(name) {
  const text = readFileSync(path.join(PROTO, name), 'utf8');
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  assert.deepEqual(doc.errors.map(String), [], `${name} does not parse`);
  return doc.toJS({ maxAliasCount: -1 });
}

// Follows a $ref from a YAML document in proto/ to its target.  Returns
// { value, ajvKey } where ajvKey names a schema in Ajv when the target lies
// in a schema file.
function resolveRef(doc, ref, seen = new Set()) {
  assert.ok(!seen.has(ref), `$ref cycle through ${ref}`);
  seen.add(ref);
  const hash = ref.indexOf('#');
  const file = hash < 0 ? ref : ref.slice(0, hash);
  const frag = hash < 0 ? '' : ref.slice(hash + 1);
  if (file === '') {
    const value = pointer(doc, frag);
    assert.notEqual(value, undefined, `local $ref ${ref} does not resolve`);
    if (value && typeof value === 'object' && typeof value.$ref === 'string' &&
        Object.keys(value).length === 1)
      return resolveRef(doc, value.$ref, seen);
    return { value };
  }
  assert.ok(!/^[a-z]+:/i.test(file), `$ref ${ref} points outside the repository`);
  const full = path.resolve(PROTO, file);
  assert.ok(existsSync(full), `$ref ${ref}: no file ${path.relative(ROOT, full)}`);
  const target = readJson(full);
  const value = pointer(target, frag);
  assert.notEqual(value, undefined, `$ref ${ref}: ${frag} is not in ${file}`);
  const rel = path.relative(SCHEMAS, full);
  const ajvKey = rel.startsWith('..') ? undefined : ID_BASE + rel + (frag ? `#${frag}` : '');
  return { value, ajvKey };
}

describe('JSON Schemas (proto/schemas)', () => {
  test('the folder holds exactly the documented schema files', () => {
    const present = readdirSync(SCHEMAS).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(present, [...SCHEMA_FILES].sort());
  });

  for (const f of SCHEMA_FILES) {
    test(`${f} is a valid draft 2020-12 schema and compiles`, () => {
      const schema = readJson(path.join(SCHEMAS, f));
      assert.equal(schema.$schema, DRAFT_2020);
      assert.equal(schema.$id, ID_BASE + f);
      assert.ok(schema.title && schema.description, 'title and description');
      const ajv = newAjv();
      // The meta-schema check and the compile (strict mode: unknown keywords,
      // ignored keywords and bad patterns are errors).
      assert.ok(ajv.validateSchema(schema), ajv.errorsText(ajv.errors));
      for (const other of SCHEMA_FILES)
        if (other !== f) ajv.addSchema(readJson(path.join(SCHEMAS, other)));
      assert.equal(typeof ajv.compile(schema), 'function');
    });
  }
});

// The params schemas of the job types (proto/schemas/params/): job-api
// validates params with a subset of JSON Schema (lib/domain/jsonschema.c,
// whose unit tests load each of these); here they must also be real draft
// 2020-12 schemas that a full validator compiles.
describe('params schemas (proto/schemas/params)', () => {
  const dir = path.join(SCHEMAS, 'params');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    test(`params/${f} is a valid draft 2020-12 schema and compiles`, () => {
      const schema = readJson(path.join(dir, f));
      assert.equal(schema.$schema, DRAFT_2020);
      assert.equal(schema.$id, `${ID_BASE}params/${f}`);
      assert.ok(schema.title && schema.description, 'title and description');
      assert.equal(schema.type, 'object');
      assert.equal(schema.additionalProperties, false, 'params are closed: a typo is an error');
      // A sheet is named or numbered: type [string, integer] is meant.
      const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true });
      addFormats(ajv);
      assert.ok(ajv.validateSchema(schema), ajv.errorsText(ajv.errors));
      assert.equal(typeof ajv.compile(schema), 'function');
    });
  }
});

describe('examples (tests/contract/examples)', () => {
  const { ajv } = loadSchemas();
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort();
  const seen = {};

  for (const f of files) {
    const m = /^([a-z0-9-]+)\.(valid|invalid)(?:\.([a-z0-9-]+))?\.json$/.exec(f);
    test(`${f}`, () => {
      assert.ok(m, `example name ${f} is not <target>.(valid|invalid)[.label].json`);
      const [, target, kind] = m;
      assert.ok(TARGETS[target], `example ${f}: unknown target ${target}`);
      (seen[target] ??= new Set()).add(kind);
      const v = validator(ajv, TARGETS[target]);
      const instance = readJson(path.join(EXAMPLES, f));
      const ok = v(instance);
      if (kind === 'valid') {
        assert.ok(ok, `${f} should be valid: ${errorsText(v)}`);
        return;
      }
      assert.equal(ok, false, `${f} should be invalid`);
      const why = WHY[f];
      assert.ok(why, `${f}: say in WHY which error makes it invalid`);
      const [keyword, instancePath] = why;
      assert.ok(v.errors.some((e) => e.keyword === keyword && e.instancePath === instancePath),
        `${f} fails, but not with ${keyword} at '${instancePath}': ${errorsText(v)}`);
    });
  }

  test('every schema has at least one valid and one invalid example', () => {
    for (const target of Object.keys(TARGETS))
      assert.deepEqual([...(seen[target] ?? [])].sort(), ['invalid', 'valid'], target);
  });

  test('every WHY entry names an existing invalid example', () => {
    for (const f of Object.keys(WHY)) assert.ok(files.includes(f), `WHY names missing ${f}`);
  });
});

describe('OpenAPI and AsyncAPI documents (proto/*.yaml)', () => {
  const { ajv } = loadSchemas();

  for (const [name, versionKey, versionRe] of [
    ['openapi.yaml', 'openapi', /^3\.1\.\d+$/],
    ['asyncapi.yaml', 'asyncapi', /^2\.6\.0$/],
  ]) {
    test(`${name} parses as YAML and declares its version`, () => {
      const doc = loadYaml(name);
      assert.match(String(doc[versionKey]), versionRe);
      assert.ok(doc.info?.title && doc.info?.version, 'info.title and info.version');
    });

    test(`${name}: every $ref resolves`, () => {
      const doc = loadYaml(name);
      const refs = collectRefs(doc);
      assert.ok(refs.length > 0, 'no $ref at all');
      for (const { ref, at } of refs) {
        let res;
        assert.doesNotThrow(() => { res = resolveRef(doc, ref); }, `${name}${at}: $ref ${ref}`);
        if (res.ajvKey) assert.ok(ajv.getSchema(res.ajvKey), `${name}${at}: ${ref} does not compile`);
      }
    });
  }

  test('openapi.yaml: components.schemas point at every schema file', () => {
    const doc = loadYaml('openapi.yaml');
    const refd = new Set(Object.values(doc.components.schemas)
      .map((s) => s.$ref).filter(Boolean)
      .map((r) => path.basename(r.split('#')[0])));
    for (const f of SCHEMA_FILES.filter((f) => !f.startsWith('job-message') &&
         !f.startsWith('job-status') && !f.startsWith('ws-')))
      assert.ok(refd.has(f), `components.schemas has no $ref to ${f}`);
  });

  test('openapi.yaml: the documented operations and status codes are there', () => {
    const doc = loadYaml('openapi.yaml');
    const codes = (p, m) => Object.keys(doc.paths[p]?.[m]?.responses ?? {}).sort();
    assert.deepEqual(codes('/api/uploads', 'post').filter((c) => c === '201'), ['201']);
    for (const c of ['200', '202', '400', '401', '409', '413', '415', '422', '503'])
      assert.ok(codes('/api/jobs', 'post').includes(c), `POST /api/jobs ${c}`);
    for (const c of ['200', '400', '401', '404'])
      assert.ok(codes('/api/jobs/{job_id}', 'get').includes(c), `GET /api/jobs/{job_id} ${c}`);
    assert.ok(codes('/api/uploads/{upload_id}', 'get').includes('200'));
    assert.deepEqual(codes('/api/job-types', 'get'), ['200', '401']);
    assert.deepEqual(codes('/api/job-types/{name}', 'get'), ['200', '401', '404']);
    for (const p of ['/healthz', '/readyz', '/metrics']) assert.ok(doc.paths[p]?.get, p);
    assert.ok(doc.components.securitySchemes.bearer, 'bearer security scheme');
  });

  // An inline schema of a YAML document, its $refs made usable by Ajv: local
  // ones replaced by their target, ones into schema files by the file's $id.
  function inlineSchema(doc, node) {
    if (Array.isArray(node)) return node.map((v) => inlineSchema(doc, v));
    if (!node || typeof node !== 'object') return node;
    if (typeof node.$ref === 'string') {
      const res = resolveRef(doc, node.$ref);
      return res.ajvKey ? { $ref: res.ajvKey } : inlineSchema(doc, res.value);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inlineSchema(doc, v)]));
  }

  // Examples embedded in the documents must match the schema they sit under.
  function schemaValidator(doc, schema) {
    return ajv.compile(inlineSchema(doc, schema));
  }

  test('openapi.yaml: every JSON example matches its schema', () => {
    const doc = loadYaml('openapi.yaml');
    let checked = 0;
    const visit = (node, at) => {
      if (Array.isArray(node)) return node.forEach((v, i) => visit(v, `${at}/${i}`));
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node)) {
        if ((k === 'application/json' || k === 'application/problem+json') && v?.schema) {
          const val = schemaValidator(doc, v.schema);
          const ex = [];
          if ('example' in v) ex.push(['example', v.example]);
          for (const [n, e] of Object.entries(v.examples ?? {})) {
            const value = e.$ref ? resolveRef(doc, e.$ref).value.value : e.value;
            ex.push([n, value]);
          }
          for (const [n, value] of ex) {
            assert.ok(val(value), `${at}/${k} example ${n}: ${errorsText(val)}`);
            checked++;
          }
        }
        visit(v, `${at}/${k}`);
      }
    };
    visit(doc.paths, '/paths');
    assert.ok(checked >= 10, `only ${checked} examples checked`);
  });

  test('asyncapi.yaml: every message example matches its payload and headers', () => {
    const doc = loadYaml('asyncapi.yaml');
    let checked = 0;
    for (const [name, msg0] of Object.entries(doc.components.messages)) {
      const msg = msg0.$ref ? resolveRef(doc, msg0.$ref).value : msg0;
      assert.ok(msg.payload, `message ${name} has no payload`);
      assert.ok((msg.examples ?? []).length > 0, `message ${name} has no example`);
      const payload = schemaValidator(doc, msg.payload);
      const headers = msg.headers ? schemaValidator(doc, msg.headers) : null;
      for (const ex of msg.examples) {
        if ('payload' in ex) {
          assert.ok(payload(ex.payload), `${name} example ${ex.name}: ${errorsText(payload)}`);
          checked++;
        }
        if (headers && 'headers' in ex) {
          assert.ok(headers(ex.headers), `${name} example ${ex.name} headers: ${errorsText(headers)}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 8, `only ${checked} examples checked`);
  });

  test('asyncapi.yaml matches the RabbitMQ definitions file', () => {
    const doc = loadYaml('asyncapi.yaml');
    const defs = readJson(path.join(ROOT, 'infra', 'rabbitmq', 'definitions.json'));
    const bindings = Object.values(doc.channels).map((c) => c.bindings?.amqp).filter(Boolean);
    for (const ex of defs.exchanges) {
      const b = bindings.find((b) => b.exchange?.name === ex.name);
      assert.ok(b, `exchange ${ex.name} is not described`);
      assert.equal(b.exchange.type, ex.type, `type of exchange ${ex.name}`);
      assert.equal(b.exchange.durable, ex.durable, `durability of exchange ${ex.name}`);
    }
    const param = (channel, name) => {
      const p = doc.channels[channel].parameters[name];
      return p.$ref ? resolveRef(doc, p.$ref).value : p;
    };
    const queues = new Set(bindings.filter((b) => b.is === 'queue').map((b) => b.queue.name));
    const tiers = param('queue/jobs.retry.{delaySeconds}s', 'delaySeconds').schema.enum;
    for (const q of defs.queues) {
      const retry = /^jobs\.retry\.(\d+)s$/.exec(q.name);
      const described = queues.has(q.name) ||
        (retry && queues.has('jobs.retry.{delaySeconds}s') && tiers.includes(Number(retry[1])));
      assert.ok(described, `queue ${q.name} is not described`);
      if (retry) assert.equal(q.arguments['x-message-ttl'], Number(retry[1]) * 1000);
    }
    // The retry tiers: the same delays in the queues, the headers bindings,
    // the channel parameter and the x-retry-delay-s header.
    const defined = defs.queues.map((q) => /^jobs\.retry\.(\d+)s$/.exec(q.name))
      .filter(Boolean).map((m) => Number(m[1])).sort((a, b) => a - b);
    assert.deepEqual([...tiers].sort((a, b) => a - b), defined, 'retry tiers');
    const header = doc.components.schemas.RetryHeaders.properties['x-retry-delay-s'].enum;
    assert.deepEqual(header.map(Number).sort((a, b) => a - b), defined, 'x-retry-delay-s values');
    for (const b of defs.bindings.filter((b) => b.source === 'jobs.retry')) {
      const n = b.arguments['x-retry-delay-s'];
      assert.equal(b.arguments['x-match'], 'all');
      assert.equal(b.destination, `jobs.retry.${n}s`);
      assert.equal(typeof n, 'string', 'x-retry-delay-s binds a string, as the worker sends it');
    }
    for (const q of defs.queues.filter((q) => /^jobs\.retry\./.test(q.name)))
      assert.equal(q.arguments['x-dead-letter-exchange'], 'jobs', `${q.name} dead-letters into jobs`);
    // The work queues: one per pool, each with the arguments of every work
    // queue (as the one work queue had before pools), described by its
    // channel, which lists the routing keys bound to it.
    const work = defs.queues.filter((q) => /^jobs\.work\./.test(q.name));
    assert.ok(work.length >= 2, 'a work queue per pool');
    assert.ok(!defs.queues.some((q) => q.name === 'jobs.work'), 'jobs.work is gone');
    for (const q of work) {
      assert.deepEqual(q.arguments, {
        'x-queue-type': 'quorum', 'x-dead-letter-exchange': 'jobs.dlx', 'x-delivery-limit': 5,
        'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish',
      }, `arguments of ${q.name}`);
      const channel = doc.channels[`queue/${q.name}`];
      assert.ok(channel, `no channel queue/${q.name}`);
      assert.deepEqual(channel['x-arguments'], q.arguments, `x-arguments of queue/${q.name}`);
      const keys = defs.bindings.filter((b) => b.source === 'jobs' && b.destination === q.name)
        .map((b) => b.routing_key);
      assert.deepEqual(channel['x-routing-keys'], keys, `routing keys of ${q.name}`);
    }
    assert.ok(defs.bindings.some((b) => b.source === 'jobs.dlx' && b.destination === 'jobs.dlq'));
    const fromJobs = defs.bindings.filter((b) => b.source === 'jobs');
    assert.ok(fromJobs.every((b) => work.some((q) => q.name === b.destination)),
      'exchange jobs binds only to work queues');
    const workRoutes = fromJobs.map((b) => b.routing_key);
    assert.equal(new Set(workRoutes).size, workRoutes.length, 'a job type is bound to one pool');
    const jobType = param('jobs/{jobType}', 'jobType').schema;
    for (const k of workRoutes) assert.match(k, new RegExp(jobType.pattern), `routing key ${k}`);
  });
});

// ---------------------------------------------------------------------------
// Optional: a running stack.  RAP_CONTRACT_URL=http://127.0.0.1:8080
const LIVE = process.env.RAP_CONTRACT_URL;
const KEY = process.env.RAP_CONTRACT_KEY || 'dev-key';

describe('a running stack (RAP_CONTRACT_URL)', { skip: LIVE ? false : 'RAP_CONTRACT_URL is not set' }, () => {
  const { ajv } = loadSchemas();
  const auth = { Authorization: `Bearer ${KEY}` };
  const check = (target, body) => {
    const v = validator(ajv, TARGETS[target] ?? target);
    assert.ok(v(body), `${target}: ${errorsText(v)}\n${JSON.stringify(body)}`);
  };
  // An answer's JSON body; an error's is application/problem+json.
  const json = async (res, status) => {
    const text = await res.text();
    assert.equal(res.status, status, text);
    assert.match(res.headers.get('content-type') ?? '', status >= 400 ? /^application\/problem\+json/ : /^application\/json/);
    assert.ok(res.headers.get('x-request-id'), 'X-Request-Id header');
    return JSON.parse(text);
  };

  test('upload, create a job, read it until it is finished, and the errors', async () => {
    const form = new FormData();
    form.append('file', new Blob(['contract test\n'], { type: 'text/plain' }), 'contract.txt');
    const up = await json(await fetch(`${LIVE}/api/uploads`, { method: 'POST', headers: auth, body: form }), 201);
    check('upload-created', up);
    check('upload', await json(await fetch(`${LIVE}/api/uploads/${up.upload_id}`, { headers: auth }), 200));

    const body = JSON.stringify({ object_key: up.object_key, type: 'file.inspect' });
    const headers = { ...auth, 'Content-Type': 'application/json', 'Idempotency-Key': `contract-${up.upload_id}` };
    const created = await json(await fetch(`${LIVE}/api/jobs`, { method: 'POST', headers, body }), 202);
    check('job-created', created);
    const replay = await json(await fetch(`${LIVE}/api/jobs`, { method: 'POST', headers, body }), 200);
    check('job-created', replay);
    assert.equal(replay.job_id, created.job_id);
    check('error', await json(await fetch(`${LIVE}/api/jobs`, {
      method: 'POST', headers, body: JSON.stringify({ object_key: up.object_key, type: 'file.inspect', max_attempts: 2 }),
    }), 409));

    let job;
    for (let i = 0; i < 100; i++) {
      job = await json(await fetch(`${LIVE}/api/jobs/${created.job_id}`, { headers: auth }), 200);
      check('job', job);
      if (['COMPLETED', 'FAILED', 'DEAD', 'CANCELLED'].includes(job.status)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(job.status, 'COMPLETED', JSON.stringify(job));

    // Its row errors: none for file.inspect, as a page and as the CSV report.
    const page = await json(await fetch(`${LIVE}/api/jobs/${created.job_id}/errors?limit=10`, { headers: auth }), 200);
    check('job-errors-page', page);
    assert.deepEqual(page, { errors: [], next: null, total: 0 });
    const report = await fetch(`${LIVE}/api/jobs/${created.job_id}/errors.csv`, { headers: auth });
    assert.equal(report.status, 200);
    assert.match(report.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal(await report.text(), 'row,column,code,message,value\r\n');
    check('error', await json(await fetch(`${LIVE}/api/jobs/${created.job_id}/errors?after=x`, { headers: auth }), 400));
    check('error', await json(await fetch(`${LIVE}/api/jobs/00000000-0000-4000-8000-000000000000/errors`, { headers: auth }), 404));

    // The caller's numbers, now with at least this job in them.
    const stats = await json(await fetch(`${LIVE}/api/jobs/stats?hours=1`, { headers: auth }), 200);
    check('job-stats', stats);
    assert.ok(stats.jobs >= 1 && stats.by_state.COMPLETED >= 1, JSON.stringify(stats));
    check('error', await json(await fetch(`${LIVE}/api/jobs/stats?hours=0`, { headers: auth }), 400));
    // Every owner's numbers, an admin's (owner null); an ordinary key's 403.
    const adminAuth = { authorization: `Bearer ${process.env.RAP_TEST_ADMIN_KEY || 'admin-key'}` };
    const every = await json(await fetch(`${LIVE}/api/jobs/stats?hours=1&all=true`, { headers: adminAuth }), 200);
    check('job-stats', every);
    assert.equal(every.owner, null);
    assert.ok(every.jobs >= stats.jobs, JSON.stringify(every));
    check('error', await json(await fetch(`${LIVE}/api/jobs/stats?all=true`, { headers: auth }), 403));

    check('error', await json(await fetch(`${LIVE}/api/jobs/${created.job_id}`), 401));
    check('error', await json(await fetch(`${LIVE}/api/jobs/not-a-uuid`, { headers: auth }), 400));
    check('error', await json(await fetch(`${LIVE}/api/jobs/00000000-0000-4000-8000-000000000000`, { headers: auth }), 404));
    check('error', await json(await fetch(`${LIVE}/api/jobs`, {
      method: 'POST', headers: { ...auth, 'Content-Type': 'text/plain' }, body,
    }), 415));
    check('error', await json(await fetch(`${LIVE}/api/jobs`, {
      method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ object_key: up.object_key, type: 'file.inspect', extra: 1 }),
    }), 400));
    check('error', await json(await fetch(`${LIVE}/api/jobs`, {
      method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ object_key: up.object_key, type: 'no.such.type' }),
    }), 422));
    const badParams = await json(await fetch(`${LIVE}/api/jobs`, {
      method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ object_key: up.object_key, type: 'file.inspect', params: { note: 1 } }),
    }), 422);
    check('error', badParams);
    assert.equal(badParams.code, 'invalid_params');
  });

  test('the job types: the list, one type, and the errors', async () => {
    const list = await json(await fetch(`${LIVE}/api/job-types`, { headers: auth }), 200);
    check('job-type-list', list);
    assert.ok(list.job_types.length > 0);
    for (const t of list.job_types) {
      check('job-type', t);
      const one = await json(await fetch(`${LIVE}/api/job-types/${t.name}`, { headers: auth }), 200);
      check('job-type', one);
      assert.deepEqual(one, t);
    }
    check('error', await json(await fetch(`${LIVE}/api/job-types`), 401));
    check('error', await json(await fetch(`${LIVE}/api/job-types/no.such.type`, { headers: auth }), 404));
  });
});
