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

  describe("the internal door", () => {
    it("is off unless INTERNAL_PORT is set", () => {
      expect(loadConfig({}).internal).toBeUndefined();
    });

    it("listens on INTERNAL_HOST:INTERNAL_PORT, trusting loopback and the private ranges by default", () => {
      const internal = loadConfig({ INTERNAL_PORT: "9090" }).internal;

      expect(internal).toMatchObject({ port: 9090, host: "0.0.0.0", tls: undefined });
      expect(internal?.trustedCidrs.map((cidr) => `${cidr.address}/${cidr.prefix}`)).toEqual([
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
      ]);
    });

    it("reads INTERNAL_TRUSTED_CIDRS and the door's TLS with a client CA", () => {
      const internal = loadConfig({
        INTERNAL_PORT: "9090",
        INTERNAL_HOST: "10.0.0.2",
        INTERNAL_TRUSTED_CIDRS: "10.1.0.0/16, fd00::/8",
        INTERNAL_TLS_CERT_FILE: "/certs/door.pem",
        INTERNAL_TLS_KEY_FILE: "/certs/door.key",
        INTERNAL_TLS_CLIENT_CA_FILE: "/certs/mesh-ca.pem",
      }).internal;

      expect(internal).toEqual({
        port: 9090,
        host: "10.0.0.2",
        trustedCidrs: [
          { family: "ipv4", address: "10.1.0.0", prefix: 16 },
          { family: "ipv6", address: "fd00::", prefix: 8 },
        ],
        tls: {
          certFile: "/certs/door.pem",
          keyFile: "/certs/door.key",
          clientCaFile: "/certs/mesh-ca.pem",
        },
      });
    });

    it.each([
      [{ INTERNAL_PORT: "8080" }, /INTERNAL_PORT must differ from PORT/],
      [{ INTERNAL_PORT: "9000", PORT: "9000" }, /INTERNAL_PORT must differ from PORT/],
      [{ INTERNAL_PORT: "9090", INTERNAL_TRUSTED_CIDRS: "10.0.0.0/33" }, /INTERNAL_TRUSTED_CIDRS/],
      [{ INTERNAL_PORT: "9090", INTERNAL_TRUSTED_CIDRS: "internal" }, /INTERNAL_TRUSTED_CIDRS/],
      [{ INTERNAL_PORT: "99999" }, /INTERNAL_PORT/],
      [{ INTERNAL_PORT: "9090", INTERNAL_TLS_CERT_FILE: "/c.pem" }, /go together/],
      [
        { INTERNAL_PORT: "9090", INTERNAL_TLS_CLIENT_CA_FILE: "/ca.pem" },
        /INTERNAL_TLS_CLIENT_CA_FILE \(mTLS\) needs/,
      ],
      [{ INTERNAL_TRUSTED_CIDRS: "10.0.0.0/8" }, /set but not INTERNAL_PORT/],
      [{ INTERNAL_TLS_CLIENT_CA_FILE: "/ca.pem" }, /set but not INTERNAL_PORT/],
    ])("refuses %j", (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });

    it("lets both ports be 0 (each picks a free one)", () => {
      expect(loadConfig({ PORT: "0", INTERNAL_PORT: "0" }).internal?.port).toBe(0);
    });
  });
});
