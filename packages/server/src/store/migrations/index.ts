import type { Migration } from "kysely";
import { migration0001 } from "./0001-accounts.js";
import { migration0002 } from "./0002-messaging.js";
import { migration0003 } from "./0003-media.js";
import { migration0004 } from "./0004-device-links.js";
import { migration0005 } from "./0005-shared-welcomes.js";
import { migration0006 } from "./0006-link-announcements.js";
import { migration0007 } from "./0007-group-admins.js";
import { migration0008 } from "./0008-communities.js";
import { migration0009 } from "./0009-channels.js";
import { migration0010 } from "./0010-channel-posts-media-polls.js";
import { migration0011 } from "./0011-channel-photo-suspension.js";
import { migration0012 } from "./0012-moderation.js";
import { migration0013 } from "./0013-businesses.js";

/** Every migration, in order. Names sort; never rename or edit a released one. */
export const migrations: Record<string, Migration> = {
  "0001-accounts": migration0001,
  "0002-messaging": migration0002,
  "0003-media": migration0003,
  "0004-device-links": migration0004,
  "0005-shared-welcomes": migration0005,
  "0006-link-announcements": migration0006,
  "0007-group-admins": migration0007,
  "0008-communities": migration0008,
  "0009-channels": migration0009,
  "0010-channel-posts-media-polls": migration0010,
  "0011-channel-photo-suspension": migration0011,
  "0012-moderation": migration0012,
  "0013-businesses": migration0013,
};
