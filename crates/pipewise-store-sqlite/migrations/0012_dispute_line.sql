-- What a disputed line said when the dispute was opened (rule, kind, deal, amount): an open
-- statement computed again may number its lines differently, so the index alone could point at
-- another line. The same column in both engines.
ALTER TABLE pay_dispute ADD COLUMN line_label TEXT;
