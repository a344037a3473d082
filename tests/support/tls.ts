import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { ServerOptions } from "../../src/transport/server.js";

/** A key and a self-signed certificate for 127.0.0.1, valid for a day. */
export interface TestCertificate {
  /** The files, for the server's `tls` option. */
  readonly files: NonNullable<ServerOptions["tls"]>;
  /** The certificate, for clients to trust. */
  readonly ca: Buffer;
}

/**
 * Makes a P-256 key and a certificate for it with `openssl` before the tests of the enclosing
 * suite, in a directory of their own that is removed after them. Read it inside tests and hooks.
 */
export function useTestCertificate(): TestCertificate {
  let dir: string | undefined;
  let certificate: TestCertificate | undefined;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "profile-tls-"));
    const keyFile = path.join(dir, "key.pem");
    const certFile = path.join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=127.0.0.1"],
        ...["-addext", "subjectAltName=IP:127.0.0.1"],
      ],
      { stdio: "ignore" },
    );
    certificate = { files: { certFile, keyFile }, ca: readFileSync(certFile) };
  });
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  const ready = (): TestCertificate => {
    if (certificate === undefined)
      throw new Error("useTestCertificate: read it inside tests or hooks");
    return certificate;
  };
  return {
    get files() {
      return ready().files;
    },
    get ca() {
      return ready().ca;
    },
  };
}
