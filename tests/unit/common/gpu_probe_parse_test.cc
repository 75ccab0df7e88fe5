// Being written (parsers helper).
