import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** A key and a self-signed certificate for 127.0.0.1, valid for a day, in a directory of their own. */
export interface TestCertificate {
  readonly keyFile: string;
  readonly certFile: string;
  /** The certificate, for clients to trust. */
  readonly ca: Buffer;
  /** Deletes the directory. */
  remove(): void;
}

/** Makes a P-256 key and a certificate for it with `openssl`, for TLS tests. */
export function createTestCertificate(): TestCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), "profile-tls-"));
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
  return {
    keyFile,
    certFile,
    ca: readFileSync(certFile),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
