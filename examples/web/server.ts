import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface ExampleServerOptions {
  readonly port: number;
  readonly host: string;
  /**
   * Signs a token for a user id, for the page's "Get a development token"; a refusal's message
   * is shown on the page. Only ever given a development secret (see serve.ts).
   */
  readonly mintToken: (userId: string) => Promise<string>;
}

export interface ExampleServer {
  /** e.g. http://127.0.0.1:8081 */
  readonly origin: string;
  close(): Promise<void>;
}

/** The page's script: app.ts with Connect and the generated code, bundled for browsers. */
export async function bundleExample(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(here, "app.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: "inline",
    write: false,
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error("esbuild produced no output");
  return output.text;
}

/**
 * Serves the example web client (index.html and the bundled app.js) on an origin of its own, and
 * mints development tokens at `POST /dev-token` (`{"userId": "…"}` → `{"token": "…"}`).
 */
export async function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> {
  const [page, script] = await Promise.all([
    readFile(path.join(here, "index.html"), "utf8"),
    bundleExample(),
  ]);
  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method === "GET" && url.pathname === "/") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
    } else if (request.method === "GET" && url.pathname === "/app.js") {
      response.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
    } else if (request.method === "POST" && url.pathname === "/dev-token") {
      const answer = await tokenAnswer(request, options.mintToken);
      response.writeHead(answer.status, { "content-type": "application/json" });
      response.end(JSON.stringify(answer.body));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${options.host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function tokenAnswer(
  request: http.IncomingMessage,
  mintToken: ExampleServerOptions["mintToken"],
): Promise<{ status: number; body: { token: string } | { error: string } }> {
  let text = "";
  for await (const chunk of request) {
    text += String(chunk);
    if (text.length > 1024) return { status: 413, body: { error: "request too large" } };
  }
  try {
    const { userId } = JSON.parse(text) as { userId?: unknown };
    if (typeof userId !== "string") return { status: 400, body: { error: "userId is required" } };
    return { status: 200, body: { token: await mintToken(userId) } };
  } catch (error) {
    return { status: 400, body: { error: error instanceof Error ? error.message : String(error) } };
  }
}
