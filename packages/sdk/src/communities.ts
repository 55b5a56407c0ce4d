import type { CommunityView, CreateCommunityRequest, JoinResult } from "@veil/protocol";
import type { Announcements } from "./announcements.js";
import type { ChatInfo, Chats } from "./chats.js";
import type { ClientContext } from "./context.js";
import type { Groups } from "./groups.js";
import type { Mailbox } from "./mailbox.js";

/**
 * The parts of communities that touch this device's state: the announcement
 * group read from the moment one joins, groups made in a community (the MLS
 * group created here, as for any group), and leaving. Everything else about
 * communities is the server's (see `VeilClient`, which calls the API directly).
 */
export class Communities {
  constructor(
    private readonly context: ClientContext,
    private readonly groups: Groups,
    private readonly chats: Chats,
    private readonly mailbox: Mailbox,
    private readonly announcements: Announcements,
  ) {}

  async create(request: CreateCommunityRequest): Promise<CommunityView> {
    const view = await this.context.api.createCommunity(request);
    await this.announcements.adopt(await this.context.api.group(view.announcementGroupId));
    return view;
  }

  /** Joins by invite link; once in, this device reads the announcement group. */
  async join(code: string): Promise<JoinResult> {
    const result = await this.context.api.joinByInvite(code);
    if (result.status === "joined") await this.mailbox.sync();
    return result;
  }

  /** Leaves the community (with its announcement group and every group of it). */
  async leave(communityId: string): Promise<void> {
    const view = await this.context.api.community(communityId);
    await this.context.api.removeCommunityMember(communityId, this.context.userId);
    await this.announcements.left(view.announcementGroupId);
  }

  /** Deactivates the community (its owner): the groups carry on alone. */
  async deactivate(communityId: string): Promise<void> {
    const view = await this.context.api.community(communityId);
    await this.context.api.deactivateCommunity(communityId);
    await this.announcements.left(view.announcementGroupId);
  }

  /** A new group in the community: the server's, then the MLS group, then these users in it. */
  async createGroup(
    communityId: string,
    request: { name: string; description?: string },
    userIds: readonly string[],
  ): Promise<ChatInfo> {
    const summary = await this.context.api.createCommunityGroup(communityId, request);
    const others = userIds.filter((u) => u !== this.context.userId);
    return this.chats.adopt(summary, [...new Set([...others, this.context.userId])]);
  }

  /** Leaves a group: this user's devices are out at once; the others commit their removal. */
  async leaveGroup(groupId: string): Promise<void> {
    await this.context.api.leaveGroup(groupId);
    await this.groups.left(groupId);
  }
}
