// The extension's decisions that do not need VS Code: how the server is started and what the
// `moec/info` request sends and shows.
import { describe, expect, it } from "vitest";
import { resolveServerLaunch, trustedPlugins } from "../../vscode-extension/src/server-launch.js";
import { INFO_REQUEST, infoParams, infoText } from "../../vscode-extension/src/info-request.js";

describe("starting the language server", () => {
  it("uses the bundled server when moec.server.path is empty", () => {
    expect(resolveServerLaunch({ serverPath: "", extensionPath: "/ext", baseDir: "/ws" })).toEqual({ kind: "bundled", module: "/ext/dist/server.js" });
    expect(resolveServerLaunch({ serverPath: undefined, extensionPath: "/ext", baseDir: undefined })).toEqual({ kind: "bundled", module: "/ext/dist/server.js" });
  });

  it("runs a moec executable as `moec lsp` (the client adds --stdio)", () => {
    expect(resolveServerLaunch({ serverPath: "/usr/local/bin/moec", extensionPath: "/ext", baseDir: "/ws" })).toEqual({
      kind: "executable",
      command: "/usr/local/bin/moec",
      args: ["lsp"],
    });
  });

  it("runs a JavaScript entry with node, resolving a relative path against the workspace folder", () => {
    expect(resolveServerLaunch({ serverPath: "node_modules/moec/bin/moec.js", extensionPath: "/ext", baseDir: "/ws" })).toEqual({
      kind: "executable",
      command: "node",
      args: ["/ws/node_modules/moec/bin/moec.js", "lsp"],
    });
  });

  it("passes on only non-empty plugin names", () => {
    expect(trustedPlugins(["./my-router.js", "", "  ", 3, " moec-plugin-x "])).toEqual(["./my-router.js", "moec-plugin-x"]);
    expect(trustedPlugins("./not-a-list.js")).toEqual([]);
  });
});

describe("moec/info", () => {
  it("sends the document URI and the cursor position", () => {
    expect(INFO_REQUEST).toBe("moec/info");
    expect(infoParams("file:///a.moe", 3, 7)).toEqual({ uri: "file:///a.moe", textDocument: { uri: "file:///a.moe" }, position: { line: 3, character: 7 } });
  });

  it("shows the server's Markdown, and says so when there is none", () => {
    expect(infoText({ entry: "a", markdown: "### a (layer)" })).toBe("### a (layer)");
    expect(infoText("plain")).toBe("plain");
    expect(infoText(null)).toMatch(/no info/);
  });
});
