import type { Migration } from "../migrate";

/**
 * An index of each owner's notes with open tasks, most recently edited first: MariaDB/MySQL search
 * with `has:task` reads an owner's few such notes through it instead of walking all their notes.
 */
export const notesOpenTasks: Migration = {
  name: "2026-12-05T01-00-notes-open-tasks",
  async up({ context: { queryInterface } }) {
    await queryInterface.addIndex("notes", ["owner_id", "deleted_at", "open_tasks", "updated_at", "id"], {
      name: "notes_by_open_tasks",
    });
  },
  async down({ context: { queryInterface } }) {
    await queryInterface.removeIndex("notes", "notes_by_open_tasks");
  },
};
