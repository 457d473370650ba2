-- The municipal ledger (台帳) the step handlers work on: insured persons, annual premiums,
-- installments, direct-debit accounts and requests, receipts, demands, and the files that
-- came in or went out. Amounts are whole yen (INTEGER); dates are TEXT YYYY-MM-DD on both
-- databases so that text order is date order and the SQL is the same.
-- Personal data (names, addresses, birth dates) lives only in insured_persons and
-- bank_accounts; every other table refers to a person by addressee_no.

CREATE TABLE insured_persons (
    addressee_no TEXT PRIMARY KEY,
    insured_no   TEXT NOT NULL UNIQUE,
    name_kanji   TEXT NOT NULL,
    name_kana    TEXT NOT NULL,
    postal_code  TEXT,
    address      TEXT NOT NULL,
    birth_date   TEXT NOT NULL,
    acquired     TEXT NOT NULL,
    lost         TEXT
);

CREATE TABLE annual_premiums (
    addressee_no TEXT NOT NULL REFERENCES insured_persons (addressee_no),
    fiscal_year  INTEGER NOT NULL,
    annual_yen   INTEGER NOT NULL CHECK (annual_yen >= 0),
    decided_on   TEXT NOT NULL,
    item_id      INTEGER NOT NULL,
    PRIMARY KEY (addressee_no, fiscal_year)
);

CREATE TABLE bank_accounts (
    addressee_no   TEXT PRIMARY KEY REFERENCES insured_persons (addressee_no),
    bank_code      TEXT NOT NULL,
    branch_code    TEXT NOT NULL,
    account_type   INTEGER NOT NULL,
    account_number TEXT NOT NULL,
    holder_kana    TEXT NOT NULL,
    valid_from     TEXT NOT NULL
);

CREATE TABLE installments (
    id                INTEGER PRIMARY KEY,
    addressee_no      TEXT NOT NULL REFERENCES insured_persons (addressee_no),
    fiscal_year       INTEGER NOT NULL,
    period            INTEGER NOT NULL,
    due_date          TEXT NOT NULL,
    amount_yen        INTEGER NOT NULL CHECK (amount_yen >= 0),
    collection_method TEXT NOT NULL CHECK (collection_method IN ('ordinary', 'direct_debit', 'pension')),
    item_id           INTEGER NOT NULL,
    UNIQUE (addressee_no, fiscal_year, period)
);
CREATE INDEX installments_by_due ON installments (due_date);

-- One debit asked of the bank: the 顧客番号 ties the bank's result to the installment.
CREATE TABLE debit_requests (
    request_no     TEXT NOT NULL,
    customer_no    TEXT NOT NULL,
    installment_id INTEGER NOT NULL REFERENCES installments (id),
    amount_yen     INTEGER NOT NULL CHECK (amount_yen > 0),
    debit_date     TEXT NOT NULL,
    round          INTEGER NOT NULL,
    result_code    INTEGER,
    PRIMARY KEY (request_no, customer_no)
);

CREATE TABLE receipts (
    id             INTEGER PRIMARY KEY,
    installment_id INTEGER NOT NULL REFERENCES installments (id),
    paid_on        TEXT NOT NULL,
    amount_yen     INTEGER NOT NULL,
    source         TEXT NOT NULL CHECK (source IN ('direct_debit', 'counter', 'convenience_store', 'pension', 'appropriation')),
    reference      TEXT NOT NULL,
    item_id        INTEGER NOT NULL,
    UNIQUE (source, reference)
);
CREATE INDEX receipts_by_installment ON receipts (installment_id);

-- Installments a 督促 run found unpaid (滞納者把握), before letters exist.
CREATE TABLE demand_candidates (
    item_id        INTEGER NOT NULL,
    installment_id INTEGER NOT NULL REFERENCES installments (id),
    unpaid_yen     INTEGER NOT NULL CHECK (unpaid_yen > 0),
    confirmed      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (item_id, installment_id)
);

-- One 督促 per installment (法: a demand is made once per claim).
CREATE TABLE demands (
    id                  INTEGER PRIMARY KEY,
    installment_id      INTEGER NOT NULL UNIQUE REFERENCES installments (id),
    item_id             INTEGER NOT NULL,
    unpaid_yen          INTEGER NOT NULL CHECK (unpaid_yen > 0),
    issued_on           TEXT NOT NULL,
    designated_deadline TEXT NOT NULL,
    demand_fee_yen      INTEGER NOT NULL CHECK (demand_fee_yen >= 0),
    sent_on             TEXT,
    renewal_effective   TEXT
);

-- Files received from outside (bank results, 広域連合 files), kept as delivered; work items
-- refer to them by id so that their content never enters the transition log.
CREATE TABLE inbound_files (
    id          INTEGER PRIMARY KEY,
    document    TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    content_b64 TEXT NOT NULL,
    received_on TEXT NOT NULL
);

-- Files we produced (送付履歴), as queued in the outbox, for the confirming steps to read back.
CREATE TABLE outbound_files (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL,
    document    TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    content_b64 TEXT NOT NULL,
    records     INTEGER NOT NULL,
    total_yen   INTEGER NOT NULL,
    outbox_id   INTEGER NOT NULL,
    UNIQUE (item_id, document, file_name)
);

-- Letters issued, one per document and key, so that a step run again never sends twice.
CREATE TABLE issued_documents (
    document  TEXT NOT NULL,
    doc_key   TEXT NOT NULL,
    item_id   INTEGER NOT NULL,
    outbox_id INTEGER,
    PRIMARY KEY (document, doc_key)
);
