-- The festival's own records: who holds which ticket, how many gold tickets exist, and which
-- outside identities (ticket vendor logins) belong to which festival account.
--
-- Plain SQL on purpose: apart from the auto-increment ids, every statement here runs unchanged
-- on PostgreSQL, so a Postgres migration set can follow this one line for line.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    -- NULL for accounts created through the ticket vendor: they have no festival password,
    -- and a password login for them must fail exactly like a wrong password.
    password_hash TEXT,
    wristband     TEXT    NOT NULL CHECK (wristband IN ('green', 'gold')),
    -- Seconds since the Unix epoch, from the app's injected clock.
    created_at    INTEGER NOT NULL
);

-- One row per limited ticket kind. `sold` only ever grows through
-- `UPDATE ... SET sold = sold + 1 WHERE sold < quota`, a single statement the database
-- applies atomically, so concurrent purchases can never oversell.
CREATE TABLE ticket_quota (
    wristband TEXT    PRIMARY KEY CHECK (wristband IN ('green', 'gold')),
    quota     INTEGER NOT NULL CHECK (quota >= 0),
    sold      INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0)
);

-- Account linking for third-party login is keyed on the issuer and its subject identifier
-- (OpenID Connect Core §5.7): never on an email address, which a provider may let its users
-- change or may not verify.
CREATE TABLE external_identities (
    issuer     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    UNIQUE (issuer, subject)
);

CREATE INDEX external_identities_user_id ON external_identities (user_id);
