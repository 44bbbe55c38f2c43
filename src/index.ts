// The library face: `import { … } from "rollcall"`.
export { type App, type BuildOptions, buildApp } from "./app.js";
export { type Config, ConfigError, loadConfig } from "./config.js";
export { AppError, ERROR_CODES, type ErrorCode } from "./core/errors.js";
export { type Database, openDatabase } from "./db/index.js";
export { migrate } from "./db/migrate.js";
export { createLogger } from "./http/logging.js";
