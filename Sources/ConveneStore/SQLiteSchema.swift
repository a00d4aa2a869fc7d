import GRDB

/// Versioned schema migrations. Append new migrations; never edit a shipped one.
enum SQLiteSchema {
    /// The mechanism plugins' events as they were recorded before ABI 1.3, narrowed (the
    /// PostgreSQL store runs the same statements, quoted):
    /// - a task force's: about the meeting that formed it, the operation's first mission-planning
    ///   meeting (II.B.2(a)), or, if none is found, seen by no one;
    /// - a Council mission's: for the Council, the Secretariat and the contributors;
    /// - a reconnaissance visit's: for the Council and the Secretariat (the visiting country was
    ///   not recorded with it).
    static let narrowedPluginEvents = [
        """
        UPDATE event SET meetingID = (SELECT MIN(meeting.id) FROM meeting WHERE meeting.operationID = event.operationID AND meeting.stage = 1)
        WHERE subjectID = 'plugin:mission-task-forces' AND kind IN ('imtf.formed', 'imtf.dissolved') AND meetingID IS NULL
        """,
        """
        UPDATE event SET audience = 6
        WHERE subjectID = 'plugin:mission-task-forces' AND kind IN ('imtf.formed', 'imtf.dissolved') AND meetingID IS NULL
        """,
        """
        UPDATE event SET audience = 5
        WHERE subjectID = 'plugin:council-missions' AND kind IN ('mission.terms_delivered', 'mission.conclusions_delivered') AND audience = 0
        """,
        """
        UPDATE event SET audience = 4, audiencePartyID = NULL
        WHERE subjectID = 'plugin:reconnaissance-visits' AND kind = 'recon.visit_requested' AND audience = 0
        """,
    ]

    /// The Military Staff Committee's events about a review of a change in the authorization to
    /// use force, recorded about the operation before the plugin named their audience: for the
    /// Council, the Secretariat and the contributors, who alone may list such reviews (I.C.1).
    /// A meeting's review's events were about the meeting already. (PostgreSQL: the same, quoted.)
    static let narrowedCommitteeEvents = """
        UPDATE event SET audience = 5
        WHERE subjectID = 'plugin:military-staff-committee' AND kind IN ('msc.review_opened', 'msc.review_closed')
          AND meetingID IS NULL AND audience = 0
        """

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: parties, operations, consultation") { db in
            try db.create(table: "party") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("kind", .integer).notNull()
                t.column("roles", .text).notNull()
            }
            try db.create(table: "credential") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("partyID", .integer).notNull().references("party")
                t.column("tokenHash", .text).notNull().unique()
                t.column("label", .text).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("revokedAt", .integer)
            }
            try db.create(table: "operation") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("mandate", .text).notNull()
                t.column("useOfForce", .text).notNull()
                t.column("phase", .integer).notNull()
                t.column("hostCountryID", .integer).references("party")
                t.column("createdAt", .integer).notNull()
                t.column("version", .integer).notNull()
            }
            try db.create(table: "contribution") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("operationID", .integer).notNull().references("operation").indexed()
                t.column("partyID", .integer).notNull().references("party")
                t.column("kind", .integer).notNull()
                t.column("quantity", .integer).notNull()
                t.column("description", .text).notNull()
            }
            try db.create(table: "potentialContributor") { t in
                t.column("operationID", .integer).notNull().references("operation")
                t.column("partyID", .integer).notNull().references("party")
                t.primaryKey(["operationID", "partyID"])
            }
            try db.create(table: "meeting") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("operationID", .integer).notNull().references("operation").indexed()
                t.column("form", .integer).notNull()
                t.column("isPublic", .boolean).notNull()
                t.column("stage", .integer)
                t.column("requestID", .integer)
                t.column("scheduledAt", .integer).notNull()
                t.column("convenedBy", .integer).notNull().references("party")
                t.column("status", .integer).notNull()
                t.column("topics", .text).notNull()
                t.column("paper", .text)
                t.column("missionOfficials", .text).notNull()
                t.column("summaryOverrideReason", .text)
                t.column("createdAt", .integer).notNull()
            }
            try db.create(table: "invitation") { t in
                t.column("meetingID", .integer).notNull().references("meeting")
                t.column("partyID", .integer).notNull().references("party").indexed()
                t.column("category", .integer).notNull()
                t.column("role", .integer).notNull()
                t.column("required", .boolean).notNull()
                t.primaryKey(["meetingID", "partyID"])
            }
            try db.create(table: "statement") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("meetingID", .integer).notNull().references("meeting").indexed()
                t.column("partyID", .integer).notNull().references("party")
                t.column("text", .text).notNull()
                t.column("concern", .boolean).notNull()
                t.column("response", .text)
                t.column("respondedBy", .integer)
                t.column("createdAt", .integer).notNull()
            }
            try db.create(table: "meetingRequest") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("operationID", .integer).notNull().references("operation").indexed()
                t.column("requestedBy", .integer).notNull().references("party")
                t.column("form", .integer).notNull()
                t.column("reason", .text).notNull()
                t.column("concerns", .text).notNull()
                t.column("status", .integer).notNull()
                t.column("meetingID", .integer)
                t.column("declineReason", .text)
                t.column("createdAt", .integer).notNull()
            }
            try db.create(table: "summary") { t in
                t.primaryKey("meetingID", .integer).references("meeting")
                t.column("text", .text).notNull()
                t.column("status", .integer).notNull()
                t.column("preparedBy", .integer).notNull()
                t.column("preparedAt", .integer).notNull()
                t.column("circulatedAt", .integer)
            }
            try db.create(table: "event") { t in
                t.autoIncrementedPrimaryKey("sequence")
                t.column("operationID", .integer).notNull().indexed()
                t.column("kind", .text).notNull()
                t.column("subjectID", .text).notNull()
                t.column("description", .text).notNull()
                t.column("meetingID", .integer)
                t.column("time", .integer).notNull()
            }
        }
        migrator.registerMigration("v2: briefing and lessons learned") { db in
            try db.create(table: "report") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("operationID", .integer).notNull().references("operation").indexed()
                t.column("symbol", .text).notNull()
                t.column("title", .text).notNull()
                t.column("text", .text).notNull()
                t.column("requestedByCouncil", .boolean).notNull()
                t.column("publishedAt", .integer).notNull()
                t.column("meetingID", .integer).references("meeting")
                t.column("distributedAt", .integer)
                t.column("flags", .text).notNull()
                t.column("lateReason", .text)
            }
            try db.create(table: "factSheet") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("meetingID", .integer).notNull().references("meeting").indexed()
                t.column("title", .text).notNull()
                t.column("content", .text).notNull()
                t.column("recipients", .text).notNull()
                t.column("issuedAt", .integer).notNull()
            }
            try db.create(table: "attachment") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("meetingID", .integer).notNull().references("meeting").indexed()
                t.column("fileName", .text).notNull()
                t.column("contentType", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("complete", .boolean).notNull()
                t.column("uploadedBy", .integer).notNull()
                t.column("createdAt", .integer).notNull()
            }
            try db.create(table: "attachmentChunk") { t in
                t.column("attachmentID", .integer).notNull().references("attachment", onDelete: .cascade)
                t.column("position", .integer).notNull()
                t.column("data", .blob).notNull()
                t.primaryKey(["attachmentID", "position"])
            }
            try db.create(table: "briefing") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("meetingID", .integer).notNull().references("meeting").indexed()
                t.column("brieferName", .text).notNull()
                t.column("brieferRole", .integer).notNull()
                t.column("unavailableReason", .text).notNull()
                t.column("political", .text).notNull()
                t.column("military", .text).notNull()
                t.column("humanitarian", .text).notNull()
                t.column("humanRights", .text).notNull()
                t.column("notAssessed", .text).notNull()
                t.column("attachmentIDs", .text).notNull()
                t.column("givenAt", .integer).notNull()
            }
            try db.create(table: "advice") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("operationID", .integer).notNull().references("operation").indexed()
                t.column("question", .text).notNull()
                t.column("options", .text).notNull()
                t.column("submittedAt", .integer).notNull()
            }
            try db.create(table: "experience") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("operationID", .integer).notNull().references("operation").indexed()
                t.column("partyID", .integer).notNull().references("party")
                t.column("period", .integer).notNull()
                t.column("title", .text).notNull()
                t.column("contingent", .text).notNull()
                t.column("text", .text).notNull()
                t.column("submittedAt", .integer).notNull()
            }
            try db.create(table: "lesson") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("operationID", .integer).notNull().references("operation").indexed()
                t.column("stage", .integer).notNull()
                t.column("finding", .text).notNull()
                t.column("recommendation", .text).notNull()
                t.column("topics", .text).notNull()
                t.column("sourceID", .text).notNull()
                t.column("recordedAt", .integer).notNull()
            }
        }
        migrator.registerMigration("v3: plugin storage") { db in
            try db.create(table: "pluginStorage") { t in
                t.column("plugin", .text).notNull()
                t.column("key", .blob).notNull()
                t.column("value", .blob).notNull()
                t.primaryKey(["plugin", "key"])
            }
        }
        migrator.registerMigration("v4-one-president") { db in
            // II.B.1: one Council President at a time, whatever writes the party table. Role 1 is
            // the presidency; roles are stored as "1,2,...".
            let isPresident = { (row: String) in "instr(',' || \(row).roles || ',', ',1,') > 0" }
            let refusal = "SELECT RAISE(ABORT, '\(StoreError.onePresidentMessage)')"
            try db.execute(sql: """
                CREATE TRIGGER party_one_president_on_insert BEFORE INSERT ON party
                WHEN \(isPresident("NEW")) AND EXISTS (SELECT 1 FROM party AS p WHERE \(isPresident("p")))
                BEGIN \(refusal); END
                """)
            try db.execute(sql: """
                CREATE TRIGGER party_one_president_on_update BEFORE UPDATE OF roles ON party
                WHEN \(isPresident("NEW")) AND EXISTS (SELECT 1 FROM party AS p WHERE p.id <> NEW.id AND \(isPresident("p")))
                BEGIN \(refusal); END
                """)
            // The terms of the presidency, with their dates.
            try db.create(table: "presidency") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("partyID", .integer).notNull().references("party")
                t.column("startedAt", .integer).notNull()
                t.column("endedAt", .integer)
            }
        }
        migrator.registerMigration("v4-meeting-timeline") { db in
            try db.alter(table: "meeting") { t in
                t.add(column: "pastReason", .text)
                t.add(column: "reportID", .integer)
                t.add(column: "flags", .text).notNull().defaults(to: "[]")
                t.add(column: "lateReason", .text)
            }
            try db.alter(table: "invitation") { t in
                t.add(column: "reason", .text).notNull().defaults(to: "")
            }
        }
        migrator.registerMigration("v4-event-audiences") { db in
            try db.alter(table: "event") { t in
                t.add(column: "audience", .integer).notNull().defaults(to: 0)
                t.add(column: "audiencePartyID", .integer)
            }
            // Events written before: who requested, who submitted, advice (as the read methods show them).
            try db.execute(sql: """
                UPDATE event SET audience = 1,
                  audiencePartyID = (SELECT requestedBy FROM meetingRequest WHERE 'req-' || meetingRequest.id = event.subjectID)
                WHERE kind IN ('meeting.requested', 'meeting.request_declined')
                """)
            try db.execute(sql: "UPDATE event SET audience = 2 WHERE kind = 'advice.submitted'")
            try db.execute(sql: """
                UPDATE event SET audience = 3,
                  audiencePartyID = (SELECT partyID FROM experience WHERE 'exp-' || experience.id = event.subjectID)
                WHERE kind = 'experience.submitted'
                """)
        }
        // Named apart from other v4 migrations that may be added beside it.
        migrator.registerMigration("v4-plugin-event-positions") { db in
            try db.create(table: "pluginEventPosition") { t in
                t.primaryKey("plugin", .text)
                t.column("position", .integer).notNull()
            }
        }
        // Plugins act under principals of their own (kind 8), never invited: the parties made
        // for them before (Secretariat-like "Plugin NAME") become such principals, and the
        // invitations they were given are withdrawn.
        migrator.registerMigration("v4-plugin-principals") { db in
            try db.execute(sql: """
                UPDATE party SET kind = 8 WHERE name LIKE 'Plugin %'
                  AND id IN (SELECT partyID FROM credential WHERE label LIKE 'plugin %')
                """)
            try db.execute(sql: "DELETE FROM invitation WHERE partyID IN (SELECT id FROM party WHERE kind = 8)")
        }
        // Plugin events recorded before plugins named their audience (ABI 1.3), which told every
        // party of the operation of what not every party may list, get the audience the
        // plugins give them now.
        migrator.registerMigration("v4-plugin-event-audiences") { db in
            for statement in narrowedPluginEvents { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v5-committee-event-audiences") { db in
            try db.execute(sql: narrowedCommitteeEvents)
        }
        // What each plugin's storage holds (PluginStorageUsage), kept with its keys, so that a
        // commit is checked against the plugin's limit without counting them all.
        migrator.registerMigration("v5-plugin-storage-usage") { db in
            try db.create(table: "pluginStorageUsage") { t in
                t.primaryKey("plugin", .text)
                t.column("bytes", .integer).notNull()
            }
            try db.execute(sql: """
                INSERT INTO pluginStorageUsage (plugin, bytes)
                SELECT plugin, SUM(length(key) + length(value) + \(PluginStorageUsage.entryOverhead)) FROM pluginStorage GROUP BY plugin
                """)
        }
        return migrator
    }
}
