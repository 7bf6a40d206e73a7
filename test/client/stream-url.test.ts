import { describe, expect, it } from "vitest";
import { streamUrl } from "../../src/client/stream-url.js";

describe("streamUrl", () => {
  it("adds /v1/stream to a bare host", () => {
    expect(streamUrl("ws://127.0.0.1:7070")).toBe("ws://127.0.0.1:7070/v1/stream");
    expect(streamUrl("wss://cockpit.example.com/")).toBe("wss://cockpit.example.com/v1/stream");
  });

  it("keeps a path that is given", () => {
    expect(streamUrl("ws://localhost:1/v1/stream")).toBe("ws://localhost:1/v1/stream");
    expect(streamUrl("wss://proxy.example.com/cockpit/v1/stream")).toBe("wss://proxy.example.com/cockpit/v1/stream");
  });

  it("refuses other schemes, naming the fix", () => {
    expect(() => streamUrl("http://localhost:7070")).toThrow(/must start with ws:\/\/ .* or wss:\/\//);
  });

  it("refuses text that is not a URL", () => {
    expect(() => streamUrl("ws://exa mple:1")).toThrow(/not a URL/);
    expect(() => streamUrl("")).toThrow(/not a URL/);
  });

  it("suggests ws:// when the scheme is missing", () => {
    expect(() => streamUrl("localhost:7070")).toThrow("localhost:7070: the scheme is missing; try ws://localhost:7070");
  });

  it("refuses credentials in the URL (they would end up in logs)", () => {
    expect(() => streamUrl("wss://alice:secret@example.com")).toThrow(/COCKPIT_TOKEN/);
  });
});
