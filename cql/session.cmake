# ringkv_cql: the Session (filled in by the execution work).
