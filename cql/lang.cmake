# ringkv_cql_lang: values, lexer, parser, statement splitting (filled in by the language work).
