import pino, { type Logger } from "pino";
import type { LogLevel } from "../config/config.js";

/**
 * JSON lines on stdout. Secrets and personal text never go into log fields; redaction is the
 * safety net for the places they could. Its paths are exact: wildcard paths (`*.bio`) make every
 * line far dearer, and a line is paid once per RPC (bench/README.md has the figures).
 */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: "realchat-profile" },
    redact: ["authorization", "bio", "headers.authorization", "req.headers.authorization"],
  });
}
