import { z } from "zod";

/** Node names become droplet names, tags and DNS labels. */
export const nodeNameSchema = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "a lowercase DNS label");
export const sizeSlugSchema = z.string().regex(/^[a-z0-9-]{1,40}$/, "a provider size slug");
