-- The search index takes each message's words as it is stored (fastupdate off), instead of
-- collecting them in a pending list that one unlucky insert must merge into the index once the
-- list reaches gin_pending_list_limit (4 MB). That merge ran inside the send path, under the
-- room row's lock, and held every send of the process queued behind it for up to 0.7 s (p99
-- 140-340 ms at light load in the benchmark); an insert now costs a little more, evenly.
ALTER INDEX messages_search_idx SET (fastupdate = off);
