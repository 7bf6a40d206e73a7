import { describe, expect, it } from "vitest";
import { classifyClose, classifySocketError } from "../../src/client/close-reasons.js";

const URL = "ws://127.0.0.1:7070/v1/stream";
const err = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe("classifyClose", () => {
  it("stops on 4401 and 4403 with the token sentence", () => {
    for (const code of [4401, 4403]) {
      expect(classifyClose(code, "token rejected", URL, true)).toEqual({
        action: "fail",
        failure: "auth",
        error: `token rejected by ${URL}: check COCKPIT_TOKEN`,
      });
    }
  });

  it("says a token is missing when none was given", () => {
    const v = classifyClose(4401, "", URL, false);
    expect(v.action).toBe("fail");
    expect(v.error).toBe(`${URL} requires a token: set COCKPIT_TOKEN or pass --token`);
  });

  it("stops on 4400 and says it is a protocol mismatch", () => {
    const v = classifyClose(4400, "bad handshake: protocol 2 is not spoken here", URL, true);
    expect(v).toMatchObject({ action: "fail", failure: "protocol" });
    expect(v.error).toMatch(/protocol mismatch/);
    expect(v.error).toContain("protocol 2 is not spoken here");
  });

  it("reconnects on 4409, 4408, 1001, 1000 and unknown codes", () => {
    expect(classifyClose(4409, "", URL, true)).toMatchObject({ action: "reconnect" });
    expect(classifyClose(4408, "", URL, true)).toMatchObject({ action: "reconnect" });
    expect(classifyClose(1001, "server going away", URL, true)).toEqual({
      action: "reconnect",
      error: `${URL} is going away (server going away: restart or shutdown); reconnecting`,
    });
    expect(classifyClose(1000, "", URL, true)).toMatchObject({ action: "reconnect" });
    expect(classifyClose(1011, "backend error", URL, true)).toEqual({
      action: "reconnect",
      error: `connection to ${URL} lost (close code 1011: backend error); reconnecting`,
    });
  });

  it("cleans a hostile close reason before it reaches the screen", () => {
    const v = classifyClose(4400, "\u001b]52;c;aGk=\u0007", URL, true);
    expect(v.error).not.toMatch(/[\u0000-\u001f]/);
    expect(v.error).toContain("␛]52;c;aGk=");
  });
});

describe("classifySocketError", () => {
  it("turns connection refused into the 'is cockpit serve running?' sentence and retries", () => {
    expect(classifySocketError(err("connect ECONNREFUSED 127.0.0.1:7070", "ECONNREFUSED"), URL, true)).toEqual({
      action: "reconnect",
      error: `cannot reach ${URL}: is \`cockpit serve\` running?`,
    });
  });

  it("treats an HTTP 401/403 answer to the upgrade as a rejected token", () => {
    expect(classifySocketError(err("Unexpected server response: 401"), URL, true)).toMatchObject({ action: "fail", failure: "auth" });
    expect(classifySocketError(err("Unexpected server response: 403"), URL, true).error).toBe(`token rejected by ${URL}: check COCKPIT_TOKEN`);
  });

  it("stops on HTTP 404 (wrong path) and retries on 503 (shutting down)", () => {
    expect(classifySocketError(err("Unexpected server response: 404"), URL, true)).toMatchObject({ action: "fail", failure: "protocol" });
    expect(classifySocketError(err("Unexpected server response: 503"), URL, true)).toMatchObject({ action: "reconnect" });
  });

  it("stops on an untrusted certificate and points at --ca", () => {
    const v = classifySocketError(err("self-signed certificate", "DEPTH_ZERO_SELF_SIGNED_CERT"), "wss://x/v1/stream", true);
    expect(v).toMatchObject({ action: "fail", failure: "tls" });
    expect(v.error).toMatch(/--ca/);
  });

  it("retries on DNS failure and on unknown errors, with a sentence", () => {
    expect(classifySocketError(err("getaddrinfo ENOTFOUND nope", "ENOTFOUND"), URL, true)).toMatchObject({ action: "reconnect" });
    const v = classifySocketError(err("something odd"), URL, true);
    expect(v).toMatchObject({ action: "reconnect" });
    expect(v.error).toContain("something odd");
  });
});
