import { QueryTypes, type Sequelize, type Transaction } from "sequelize";
import type { Migration, MigrationContext } from "../migrate";
import { USERNAME_KEY_MAX, USERNAME_KEY_RESERVED, usernameKey } from "../username-key";

/**
 * Usernames a person cannot tell apart are one name: username_key becomes the TR39 skeleton of
 * the case-folded NFKC name (see username-key.ts) instead of its lower-case NFKC form, so `аdmin`
 * with a Cyrillic `а` is taken once `admin` is. Where two existing accounts now share a key, the
 * older one keeps it and the newer one keeps its name and everything else, with a set-aside key
 * that no sign-up can match. Pending sign-up attempts get the new key too, so confirming one
 * applies the new rule.
 */
export const usernameKeys: Migration = {
  name: "2026-12-02T01-00-username-keys",
  async up({ context }) {
    await rekey(context, usernameKey);
  },
  async down({ context }) {
    await rekey(context, (username) => username.normalize("NFKC").toLowerCase());
  },
};

const BATCH = 1000;

async function rekey({ sequelize, dialect, queryInterface }: MigrationContext, keyOf: (username: string) => string) {
  // Every key set aside first, so that no key of the old rule can stand in the way of the new.
  const setAside = dialect === "sqlite" ? `'${USERNAME_KEY_RESERVED}' || id` : `CONCAT('${USERNAME_KEY_RESERVED}', id)`;
  await sequelize.query(`UPDATE users SET username_key = ${setAside}`);

  let after = "";
  for (;;) {
    const rows = await sequelize.query<{ id: string; username: string }>(
      "SELECT id, username FROM users WHERE id > ? ORDER BY id LIMIT ?",
      { replacements: [after, BATCH], type: QueryTypes.SELECT },
    );
    if (rows.length === 0) break;
    await sequelize.transaction(async (transaction) => {
      for (const row of rows) await claim(sequelize, transaction, row.id, keyOf(row.username));
    });
    after = rows[rows.length - 1]!.id;
  }

  // Sign-up attempts waiting for their code carry the key they will give the account.
  const codes = await queryInterface.describeTable("email_codes");
  if (!("username_key" in codes)) return;
  after = "";
  for (;;) {
    const rows = await sequelize.query<{ id: string; username: string }>(
      "SELECT id, username FROM email_codes WHERE username IS NOT NULL AND id > ? ORDER BY id LIMIT ?",
      { replacements: [after, BATCH], type: QueryTypes.SELECT },
    );
    if (rows.length === 0) break;
    await sequelize.transaction(async (transaction) => {
      for (const row of rows) {
        await sequelize.query("UPDATE email_codes SET username_key = ? WHERE id = ?", {
          replacements: [keyOf(row.username), row.id],
          transaction,
        });
      }
    });
    after = rows[rows.length - 1]!.id;
  }
}

/**
 * Gives `key` to the account, unless an older account holds it: then the newer of the two gets
 * a set-aside key. A key longer than the column is set aside too (no sign-up can have one).
 */
async function claim(sequelize: Sequelize, transaction: Transaction, id: string, key: string) {
  const setKey = (userId: string, value: string) =>
    sequelize.query("UPDATE users SET username_key = ? WHERE id = ?", { replacements: [value, userId], transaction });
  if (key.length > USERNAME_KEY_MAX) return setKey(id, setAsideKey(key, id));
  const [holder] = await sequelize.query<{ id: string }>("SELECT id FROM users WHERE username_key = ?", {
    replacements: [key],
    type: QueryTypes.SELECT,
    transaction,
  });
  if (!holder) return setKey(id, key);
  // The database compares the creation times (the id breaks a tie), whatever the order of the ids.
  const [older] = await sequelize.query<{ id: string }>(
    "SELECT id FROM users WHERE id IN (?, ?) ORDER BY created_at, id LIMIT 1",
    {
      replacements: [id, holder.id],
      type: QueryTypes.SELECT,
      transaction,
    },
  );
  if (older!.id === holder.id) return setKey(id, setAsideKey(key, id));
  await setKey(holder.id, setAsideKey(key, holder.id));
  await setKey(id, key);
}

/** The start of the key, the reserved mark and the account's id: unique, within the column, and unreachable by a name. */
function setAsideKey(key: string, id: string): string {
  let end = Math.max(0, USERNAME_KEY_MAX - USERNAME_KEY_RESERVED.length - id.length);
  const last = key.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1; // never split a surrogate pair
  return `${key.slice(0, end)}${USERNAME_KEY_RESERVED}${id}`;
}
