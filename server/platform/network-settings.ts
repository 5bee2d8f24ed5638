import { z } from "zod";
import { CorsPolicy } from "./cors";
import { originOf, TrustedProxies } from "./proxies";

/** The network settings (trusted proxies, CORS origins), validated with the rest in ./config.ts. */

/** TRUSTED_PROXIES: IPs and CIDR ranges, separated by commas or spaces; empty (the default) trusts no one. */
export const trustedProxiesSetting = z
  .string()
  .default("")
  .transform((value, ctx) => {
    try {
      return TrustedProxies.parse(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });

/** CORS_ORIGINS: origins such as https://app.example (scheme, host, optional port; no path), comma-separated. */
export const corsOriginsSetting = z
  .string()
  .default("")
  .transform((value, ctx) => {
    const origins: string[] = [];
    for (const entry of value.split(/[\s,]+/).filter(Boolean)) {
      const origin = originOf(entry);
      const plain = origin !== "" && (entry === origin || entry === `${origin}/`) && /^https?:/.test(origin);
      if (!plain) {
        ctx.addIssue({ code: "custom", message: `${JSON.stringify(entry)} is not an origin: give scheme, host and optional port, such as https://app.example:8443 ("*" is not allowed)` });
        return z.NEVER;
      }
      origins.push(origin);
    }
    return new CorsPolicy(origins);
  });
