"""Pure decoders for binary formats that app parsers share: bytes in, plain Python values out, no file access."""
