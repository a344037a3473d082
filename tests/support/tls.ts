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

/** A key and certificate, as PEM. */
export interface TestKeyPair {
  readonly key: Buffer;
  readonly cert: Buffer;
}

/** What mTLS tests need: the server's files with a client CA, and clients with and without standing. */
export interface TestMtls {
  /** For the server's `tls` option: its certificate, key, and the CA its clients must have. */
  readonly serverFiles: {
    readonly certFile: string;
    readonly keyFile: string;
    readonly clientCaFile: string;
  };
  /** The server's certificate, for clients to trust. */
  readonly serverCa: Buffer;
  /** A client certificate the client CA signed. */
  readonly client: TestKeyPair;
  /** A client certificate that CA never signed (self-signed). */
  readonly stranger: TestKeyPair;
}

/**
 * Makes, with `openssl`, a server certificate for 127.0.0.1, a client CA, a client certificate it
 * signed and one it did not, before the tests of the enclosing suite, in a directory removed after
 * them. Read it inside tests and hooks.
 */
export function useTestMtls(): TestMtls {
  let dir: string | undefined;
  let made: TestMtls | undefined;
  beforeAll(() => {
    const at = mkdtempSync(path.join(tmpdir(), "profile-mtls-"));
    dir = at;
    const file = (name: string) => path.join(at, name);
    const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
    const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    const selfSigned = (name: string, subject: string, ...extra: string[]) =>
      openssl(
        "req",
        "-x509",
        ...newKey,
        "-keyout",
        file(`${name}.key`),
        "-out",
        file(`${name}.pem`),
        "-days",
        "1",
        "-subj",
        subject,
        ...extra,
      );
    selfSigned("server", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1");
    selfSigned(
      "ca",
      "/CN=test client CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign",
    );
    selfSigned("stranger", "/CN=stranger");
    openssl(
      "req",
      ...newKey,
      "-keyout",
      file("client.key"),
      "-out",
      file("client.csr"),
      "-subj",
      "/CN=gateway",
    );
    openssl(
      "x509",
      "-req",
      "-in",
      file("client.csr"),
      "-CA",
      file("ca.pem"),
      "-CAkey",
      file("ca.key"),
      "-CAcreateserial",
      "-out",
      file("client.pem"),
      "-days",
      "1",
    );
    const pair = (name: string) => ({
      key: readFileSync(file(`${name}.key`)),
      cert: readFileSync(file(`${name}.pem`)),
    });
    made = {
      serverFiles: {
        certFile: file("server.pem"),
        keyFile: file("server.key"),
        clientCaFile: file("ca.pem"),
      },
      serverCa: readFileSync(file("server.pem")),
      client: pair("client"),
      stranger: pair("stranger"),
    };
  });
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  const ready = (): TestMtls => {
    if (made === undefined) throw new Error("useTestMtls: read it inside tests or hooks");
    return made;
  };
  return {
    get serverFiles() {
      return ready().serverFiles;
    },
    get serverCa() {
      return ready().serverCa;
    },
    get client() {
      return ready().client;
    },
    get stranger() {
      return ready().stranger;
    },
  };
}
