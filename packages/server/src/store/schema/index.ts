import type { AccountFlagsTable } from "./account-flags.js";
import type { AuthChallengesTable } from "./auth-challenges.js";
import type { BlobGrantsTable } from "./blob-grants.js";
import type { BlobsTable } from "./blobs.js";
import type { BlocksTable } from "./blocks.js";
import type { BusinessProfilesTable } from "./business-profiles.js";
import type {
  ChannelAdminInvitesTable,
  ChannelAdminsTable,
  ChannelCountsTable,
  ChannelFollowersTable,
  ChannelMediaTable,
  ChannelPollCountsTable,
  ChannelPollsTable,
  ChannelPollVotesTable,
  ChannelPostsTable,
  ChannelReactionsTable,
  ChannelsTable,
} from "./channels.js";
import type {
  CommunitiesTable,
  CommunityInvitesTable,
  CommunityMembersTable,
  GroupSuggestionsTable,
  JoinRequestsTable,
  KeyChannelsTable,
} from "./communities.js";
import type { ContactsTable } from "./contacts.js";
import type { DeviceCursorsTable } from "./device-cursors.js";
import type { DeviceLinksTable } from "./device-links.js";
import type { DevicesTable } from "./devices.js";
import type { DirectChatsTable } from "./direct-chats.js";
import type { GroupAdminsTable } from "./group-admins.js";
import type { GroupLogTable } from "./group-log.js";
import type { GroupMembersTable } from "./group-members.js";
import type { GroupsTable } from "./groups.js";
import type { KeyPackagesTable } from "./key-packages.js";
import type { MailboxTable } from "./mailbox.js";
import type { ModerationAppealsTable } from "./moderation-appeals.js";
import type { ModerationAuditTable } from "./moderation-audit.js";
import type { ModerationCasesTable } from "./moderation-cases.js";
import type { ModerationHoldsTable } from "./moderation-holds.js";
import type { ModerationNotesTable } from "./moderation-notes.js";
import type { ModerationReportsTable } from "./moderation-reports.js";
import type { ModerationStrikesTable } from "./moderation-strikes.js";
import type { PendingRemovalsTable } from "./pending-removals.js";
import type { PhoneDiscoveriesTable } from "./phone-discoveries.js";
import type { PhoneVerificationsTable } from "./phone-verifications.js";
import type { PhotosTable } from "./photos.js";
import type { RateLimitsTable } from "./rate-limits.js";
import type { SessionsTable } from "./sessions.js";
import type { StrangerChatsTable } from "./stranger-chats.js";
import type { UsersTable } from "./users.js";
import type { WelcomesTable } from "./welcomes.js";

export interface Schema {
  users: UsersTable;
  photos: PhotosTable;
  devices: DevicesTable;
  sessions: SessionsTable;
  auth_challenges: AuthChallengesTable;
  phone_verifications: PhoneVerificationsTable;
  contacts: ContactsTable;
  blocks: BlocksTable;
  phone_discoveries: PhoneDiscoveriesTable;
  rate_limits: RateLimitsTable;
  key_packages: KeyPackagesTable;
  groups: GroupsTable;
  direct_chats: DirectChatsTable;
  group_members: GroupMembersTable;
  group_log: GroupLogTable;
  device_cursors: DeviceCursorsTable;
  mailbox: MailboxTable;
  blobs: BlobsTable;
  blob_grants: BlobGrantsTable;
  device_links: DeviceLinksTable;
  pending_removals: PendingRemovalsTable;
  welcomes: WelcomesTable;
  group_admins: GroupAdminsTable;
  communities: CommunitiesTable;
  community_members: CommunityMembersTable;
  community_invites: CommunityInvitesTable;
  join_requests: JoinRequestsTable;
  group_suggestions: GroupSuggestionsTable;
  key_channels: KeyChannelsTable;
  channels: ChannelsTable;
  channel_admins: ChannelAdminsTable;
  channel_admin_invites: ChannelAdminInvitesTable;
  channel_followers: ChannelFollowersTable;
  channel_posts: ChannelPostsTable;
  channel_reactions: ChannelReactionsTable;
  channel_counts: ChannelCountsTable;
  channel_media: ChannelMediaTable;
  channel_polls: ChannelPollsTable;
  channel_poll_votes: ChannelPollVotesTable;
  channel_poll_counts: ChannelPollCountsTable;
  moderation_holds: ModerationHoldsTable;
  moderation_cases: ModerationCasesTable;
  moderation_reports: ModerationReportsTable;
  moderation_notes: ModerationNotesTable;
  moderation_strikes: ModerationStrikesTable;
  moderation_appeals: ModerationAppealsTable;
  moderation_audit: ModerationAuditTable;
  stranger_chats: StrangerChatsTable;
  account_flags: AccountFlagsTable;
  business_profiles: BusinessProfilesTable;
}
