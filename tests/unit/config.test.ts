import { describe, expect, it } from "vitest";
import { exampleWebOrigins } from "../../src/config/config.js";
import { ConfigError, loadConfig } from "../../src/config/load-config.js";

const secret = "a-shared-secret-of-at-least-32-chars";

describe("configuration from the environment", () => {
  it("defaults to PGlite in ./data on port 8080 when nothing is set", () => {
    const config = loadConfig({});

    expect(config.port).toBe(8080);
    expect(config.host).toBe("0.0.0.0");
    expect(config.database).toEqual({ kind: "pglite", dataDir: "./data" });
    expect(config.migrateOnStart).toBe(true);
    expect(config.allowHttpAvatarUrls).toBe(false);
    expect(config.tls).toBeUndefined();
    expect(config.grpcUnaryFastPath).toBe(true);
  });

  it("turns the direct unary gRPC path off with GRPC_UNARY_FAST_PATH=false", () => {
    expect(loadConfig({ GRPC_UNARY_FAST_PATH: "false" }).grpcUnaryFastPath).toBe(false);
  });

  it("uses PostgreSQL with its pool size when DATABASE_URL is set", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://u@db:5432/p",
      DB_POOL_MAX: "25",
      JWT_SECRET: secret,
    });

    expect(config.database).toEqual({
      kind: "postgres",
      url: "postgres://u@db:5432/p",
      poolMax: 25,
      preparedStatements: true,
    });
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ PORT: "", DATABASE_URL: "" }).database.kind).toBe("pglite");
  });

  it.each([
    ["PORT", "http"],
    ["PORT", "70000"],
    ["DB_POOL_MAX", "0"],
    ["DATABASE_URL", "mysql://db/x"],
    ["MIGRATE_ON_START", "yes"],
    ["REQUEST_TIMEOUT_MS", "-5"],
    ["LOG_LEVEL", "loud"],
    ["CORS_ALLOWED_ORIGINS", "not a url"],
    ["GRPC_UNARY_FAST_PATH", "off"],
    ["MAX_CONNECTIONS", "0"],
    ["HTTP2_MAX_CONCURRENT_STREAMS", "many"],
    ["HTTP_HEADERS_TIMEOUT_MS", "0"],
  ])("refuses %s=%s with a message naming the variable", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it("reads the connection limits, with production defaults", () => {
    expect(loadConfig({}).connections).toEqual({
      headersTimeoutMs: 15_000,
      http1RequestTimeoutMs: 30_000,
      http1KeepAliveTimeoutMs: 5000,
      http2IdleTimeoutMs: 60_000,
      http2MaxConcurrentStreams: 100,
      maxConnections: 1000,
    });
    expect(
      loadConfig({ MAX_CONNECTIONS: "50", HTTP2_MAX_CONCURRENT_STREAMS: "20" }).connections,
    ).toMatchObject({ maxConnections: 50, http2MaxConcurrentStreams: 20 });
  });

  it("refuses a header timeout longer than the HTTP/1.1 request timeout", () => {
    expect(() =>
      loadConfig({ HTTP_HEADERS_TIMEOUT_MS: "20000", HTTP1_REQUEST_TIMEOUT_MS: "10000" }),
    ).toThrow(/HTTP_HEADERS_TIMEOUT_MS/);
  });

  it("refuses a TLS certificate without its key", () => {
    expect(() => loadConfig({ TLS_CERT_FILE: "cert.pem" })).toThrow(/TLS_KEY_FILE/);
  });

  it("splits CORS_ALLOWED_ORIGINS on commas", () => {
    const config = loadConfig({
      CORS_ALLOWED_ORIGINS: "https://chat.example, http://localhost:5173",
    });

    expect(config.corsAllowedOrigins).toEqual(["https://chat.example", "http://localhost:5173"]);
  });

  it("grants the example web client's origins in development mode when CORS_ALLOWED_ORIGINS is unset", () => {
    expect(loadConfig({}).corsAllowedOrigins).toEqual(exampleWebOrigins);
    expect(loadConfig({ CORS_ALLOWED_ORIGINS: "https://chat.example" }).corsAllowedOrigins).toEqual(
      ["https://chat.example"],
    );
    expect(loadConfig({ JWT_SECRET: "x".repeat(32) }).corsAllowedOrigins).toEqual([]);
  });

  it("runs embedded development mode when there is neither DATABASE_URL nor JWT settings", () => {
    expect(loadConfig({}).auth.development).toBe(true);
  });

  it("refuses DATABASE_URL without JWT settings, so no deployment runs unauthenticated", () => {
    expect(() => loadConfig({ DATABASE_URL: "postgres://u@db/p" })).toThrow(
      /JWT_SECRET nor JWT_JWKS_URL/,
    );
  });

  it("uses JWT_SECRET with RealChat's issuer and audience by default", () => {
    const { auth } = loadConfig({ DATABASE_URL: "postgres://u@db/p", JWT_SECRET: secret });

    expect(auth).toMatchObject({
      secret,
      issuer: "realchat-auth",
      audience: "realchat-clients",
      development: false,
    });
  });

  it.each([
    ["JWT_SECRET", "too-short"],
    ["JWT_JWKS_URL", "not a url"],
    ["JWT_JWKS_ALGORITHMS", "HS256"],
    ["JWT_JWKS_ALGORITHMS", "none"],
    ["JWT_CLOCK_TOLERANCE_SECONDS", "3600"],
  ])("refuses %s=%s with a message naming the variable", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
