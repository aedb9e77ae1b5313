-- Each member's own values for the options they leave out, wherever they ask (/settings); NULL: not set.
CREATE TABLE member_defaults (
    user_id BIGINT PRIMARY KEY,
    model   TEXT,
    size    TEXT,
    quality TEXT,
    style   TEXT,
    private BOOLEAN
);
