import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("configuration from the environment", () => {
  it("defaults to PGlite in ./data on port 8080 when nothing is set", () => {
    const config = loadConfig({});

    expect(config.port).toBe(8080);
    expect(config.host).toBe("0.0.0.0");
    expect(config.database).toEqual({ kind: "pglite", dataDir: "./data" });
    expect(config.migrateOnStart).toBe(true);
    expect(config.allowHttpAvatarUrls).toBe(false);
    expect(config.tls).toBeUndefined();
  });

  it("uses PostgreSQL with its pool size when DATABASE_URL is set", () => {
    const config = loadConfig({ DATABASE_URL: "postgres://u@db:5432/p", DB_POOL_MAX: "25" });

    expect(config.database).toEqual({
      kind: "postgres",
      url: "postgres://u@db:5432/p",
      poolMax: 25,
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
  ])("refuses %s=%s with a message naming the variable", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
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
});
