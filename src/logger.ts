import pino, { type Logger } from "pino";
import type { LogLevel } from "./config.js";

/** JSON lines on stdout. Secrets and personal text never go into log fields. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: "realchat-profile" },
    redact: ["req.headers.authorization", "*.authorization", "*.bio"],
  });
}
