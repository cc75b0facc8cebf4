import type { Transaction } from "@notebox/db";
import { quotaOf } from "../admin/settings";
import type { CoreDeps } from "../deps";

export async function usedBytes(
  deps: Pick<CoreDeps, "db">,
  ownerId: string,
  transaction?: Transaction,
): Promise<number> {
  const total: unknown = await deps.db.models.File.sum("size", { where: { ownerId }, transaction });
  return Number(total ?? 0);
}

export async function storageUsage({ deps, ownerId }: { deps: CoreDeps; ownerId: string }) {
  return { usedBytes: await usedBytes(deps, ownerId), quotaBytes: await quotaOf(deps, ownerId) };
}
