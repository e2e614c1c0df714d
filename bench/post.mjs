// JSON POSTs for the benchmarks' submitters: node:http on kept-alive
// connections, not fetch(), which costs about 2 ms of CPU a request on these
// machines, taken from the two cores being measured.
//   const { post, close } = jsonPoster(headers, maxSockets);
//   const { status, text } = await post(url, jsonText);  ...  close();
import http from 'node:http';

export function jsonPoster(headers, maxSockets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const post = (url, payload) => new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(payload);
  });
  return { post, close: () => agent.destroy() };
}
