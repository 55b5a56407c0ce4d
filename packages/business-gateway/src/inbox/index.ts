export { Inbox } from "./inbox.js";
export { type Permission, permissions } from "./permissions.js";
