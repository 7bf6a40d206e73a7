import { STREAM_PATH } from "../protocol/types.js";

// Users type `ws://localhost:7070`; the stream lives at /v1/stream. A bare
// host gets the path added; any other path is kept as given (a proxy may mount
// the stream elsewhere).

export function streamUrl(input: string): string {
  // "localhost:7070" parses as scheme "localhost:", so catch the missing scheme first.
  if (input.length > 0 && !input.includes("://")) throw new TypeError(`${input}: the scheme is missing; try ws://${input}`);
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new TypeError(`${JSON.stringify(input)}: not a URL; expected ws://host:port or wss://host:port`);
  }
  if (u.protocol !== "ws:" && u.protocol !== "wss:")
    throw new TypeError(`${input}: the cockpit URL must start with ws:// (loopback) or wss:// (anywhere else)`);
  if (u.username || u.password) throw new TypeError(`${input}: do not put credentials in the URL; pass the token with COCKPIT_TOKEN or --token`);
  if (u.pathname === "/" || u.pathname === "") u.pathname = STREAM_PATH;
  return u.toString();
}
