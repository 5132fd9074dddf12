# Writes OUT, a C++ source holding the text of each file in FILES (a ;-list), so
# the catalog travels inside the executable. Run with cmake -P at build time.
set(body "#include \"models/catalog.hpp\"\nnamespace danlu {\nconst EmbeddedFile kEmbeddedCatalog[] = {\n")
set(count 0)
string(REPLACE "," ";" FILES "${FILES}")
foreach(f IN LISTS FILES)
  file(READ "${f}" text)
  get_filename_component(name "${f}" NAME)
  string(APPEND body "  {\"${name}\", R\"danlu_embed(${text})danlu_embed\"},\n")
  math(EXPR count "${count} + 1")
endforeach()
string(APPEND body "};\nconst int kEmbeddedCatalogCount = ${count};\n}  // namespace danlu\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
