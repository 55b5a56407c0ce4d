export * from "./api.js";
export * from "./channels.js";
export * from "./communities.js";
export * from "./errors.js";
export * from "./frames.js";
export * from "./messaging.js";
export * from "./profiles.js";
export * from "./sender-key-wire.js";
