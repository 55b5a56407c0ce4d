import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { checkWebhookUrl, isBlockedAddress, WebhookUrlError } from "../webhooks/ssrf-guard.js";

/** Why a media link could not be fetched: shown to the API caller. */
export class MediaLinkError extends Error {
  override name = "MediaLinkError";
}

export interface FetchedMedia {
  bytes: Buffer;
  /** The response's Content-Type, without parameters; null when absent. */
  contentType: string | null;
  /** From Content-Disposition, else the URL's last path segment. */
  filename: string | null;
}

/**
 * Resolves like dns.lookup, but refuses a name with any private, loopback or
 * reserved address. Used as the connection's own lookup, so the address
 * checked is the address connected to (no DNS rebinding in between).
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true, verbatim: true }, (error, addresses) => {
    if (error) return callback(error, "", 4);
    const list = addresses as dns.LookupAddress[];
    if (list.length === 0 || list.some((a) => isBlockedAddress(a.address)))
      return callback(
        Object.assign(new MediaLinkError("the host resolves to a private or reserved address"), {
          code: "EBLOCKED",
        }),
        "",
        4,
      );
    if (options.all) return callback(null, list);
    const first = list[0] as dns.LookupAddress;
    return callback(null, first.address, first.family);
  });
};

function filenameOf(url: URL, disposition: string | undefined): string | null {
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition ?? "");
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition ?? "");
  let name: string | undefined;
  try {
    name = star?.[1]
      ? decodeURIComponent(star[1])
      : (plain?.[1] ?? decodeURIComponent(url.pathname.split("/").pop() ?? ""));
  } catch {
    name = undefined;
  }
  const clean = name?.replace(/[\\/\p{Cc}]/gu, "").trim();
  return clean ? clean.slice(0, 255) : null;
}

/** One GET, without following redirects; resolves with the response or its Location. */
function get(
  url: URL,
  options: { allowPrivate: boolean; maxBytes: number; signal: AbortSignal },
): Promise<{ redirect: string } | FetchedMedia> {
  return new Promise((resolve, reject) => {
    const fail = (message: string) => reject(new MediaLinkError(message));
    const request = (url.protocol === "https:" ? https : http).get(
      url,
      {
        signal: options.signal,
        // A fresh connection per fetch: no pooled socket skips the address check.
        agent: false,
        headers: { accept: "*/*", "user-agent": "veil-business-gateway" },
        ...(options.allowPrivate ? {} : { lookup: guardedLookup }),
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400 && response.headers.location) {
          response.resume();
          resolve({ redirect: response.headers.location });
          return;
        }
        if (status < 200 || status >= 300) {
          response.resume();
          fail(`the link answered HTTP ${status}`);
          return;
        }
        const declared = Number(response.headers["content-length"] ?? Number.NaN);
        if (declared > options.maxBytes) {
          response.destroy();
          fail(`the file at the link is larger than ${options.maxBytes} bytes`);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            response.destroy();
            fail(`the file at the link is larger than ${options.maxBytes} bytes`);
            return;
          }
          chunks.push(chunk);
        });
        response.on("error", () =>
          fail(
            options.signal.aborted
              ? "the link did not answer in time"
              : "the link's answer broke off",
          ),
        );
        response.on("end", () => {
          if (size > options.maxBytes) return;
          const type = response.headers["content-type"];
          resolve({
            bytes: Buffer.concat(chunks),
            contentType: type ? (type.split(";")[0] ?? "").trim().toLowerCase() || null : null,
            filename: filenameOf(url, response.headers["content-disposition"]),
          });
        });
      },
    );
    request.on("error", (error: NodeJS.ErrnoException) => {
      if (error instanceof MediaLinkError) reject(error);
      else if (error.name === "AbortError") fail("the link did not answer in time");
      else fail(`the link could not be fetched (${error.code ?? "network error"})`);
    });
  });
}

/**
 * Fetches a media `link` for sending: http(s) only, no credentials, private
 * and reserved addresses refused unless `allowPrivate` (each redirect is
 * checked again), at most `maxBytes`, within `timeoutMs` overall.
 */
export async function fetchMediaLink(
  raw: string,
  options: { allowPrivate: boolean; maxBytes: number; timeoutMs?: number; maxRedirects?: number },
): Promise<FetchedMedia> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? 20_000);
  let next = raw;
  for (let hop = 0; hop <= (options.maxRedirects ?? 3); hop++) {
    let url: URL;
    try {
      // The syntax checks only: the address is checked when connecting.
      url = await checkWebhookUrl(next, true);
    } catch (error) {
      if (error instanceof WebhookUrlError) throw new MediaLinkError(error.message);
      throw error;
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (!options.allowPrivate && isIP(host) && isBlockedAddress(host))
      throw new MediaLinkError("the host is a private or reserved address");
    const answer = await get(url, {
      allowPrivate: options.allowPrivate,
      maxBytes: options.maxBytes,
      signal,
    });
    if (!("redirect" in answer)) return answer;
    next = new URL(answer.redirect, url).toString();
  }
  throw new MediaLinkError("the link redirects too many times");
}
