// Raw HTTP/1.1 over a socket, for requests fetch would refuse to send
// (bytes that are not text in headers, broken framing) and answers whose
// bytes matter (whether a body is valid UTF-8).
import net from 'node:net';
import { GATEWAY } from './helpers.mjs';

const gw = new URL(GATEWAY);

// Sends the bytes of one HTTP/1.1 request (Connection: close) to host:port
// and reads the whole answer: status, headers (each name lower-cased with
// every value it had) and the body's bytes.
export function rawHttp(bytes, { host = gw.hostname, port = Number(gw.port) } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    const chunks = [];
    s.setTimeout(10000, () => s.destroy(new Error('no answer in 10 s')));
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1').split('\r\n');
      const headers = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        const name = line.slice(0, i).trim().toLowerCase();
        (headers[name] ??= []).push(line.slice(i + 1).trim());
      }
      let body = all.subarray(split + 4);
      if (headers['transfer-encoding']?.[0] === 'chunked') body = unchunk(body);
      resolve({ status: Number(head[0].split(' ')[1]), headers, body });
    });
    // write, not end: nginx takes a half-closed socket for a client that
    // left (499) and drops a proxied request.
    s.write(bytes);
  });
}

function unchunk(buf) {
  const out = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    const n = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (!n) return Buffer.concat(out);
    out.push(buf.subarray(eol + 2, eol + 2 + n));
    at = eol + 2 + n + 2;
  }
}

// The body as JSON, failing unless its bytes are valid UTF-8 (res.text()
// would quietly replace what is not).
export function strictJson(buf) {
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf));
}
