"""Writes generated large documents for bench/documents.sh: SPDX 2.3 JSON, SPDX 3.0.1 JSON-LD and CycloneDX 1.6
XML documents of N packages with three dependencies each (the shape of examples/gen_bom).

usage: gen_docs.py N DIR"""
import json, sys
n = int(sys.argv[1])
# SPDX 2.3 JSON
pk = [{"SPDXID": "SPDXRef-DOCUMENT-ROOT", "name": "bench-app", "versionInfo": "1.0.0", "downloadLocation": "NOASSERTION"}]
rel = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-DOCUMENT-ROOT"}]
for i in range(n):
    pk.append({"SPDXID": f"SPDXRef-Package-{i}", "name": f"pkg-{i}", "versionInfo": f"1.{i%10}.{i%7}",
               "downloadLocation": "NOASSERTION", "licenseConcluded": "MIT", "licenseDeclared": "MIT", "copyrightText": "NOASSERTION",
               "checksums": [{"algorithm": "SHA256", "checksumValue": "%064x" % i}],
               "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": f"pkg:npm/%40bench/pkg-{i}@1.{i%10}.{i%7}"}],
               "description": f"synthetic package number {i}"})
    for k in (1, 2, 3):
        j = (i * 7 + k * 13) % n
        if j != i:
            rel.append({"spdxElementId": f"SPDXRef-Package-{i}", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": f"SPDXRef-Package-{j}"})
doc = {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "bench", "documentNamespace": "https://example.com/bench",
       "creationInfo": {"created": "2026-11-24T00:00:00Z", "creators": ["Tool: bench"]}, "packages": pk, "relationships": rel}
json.dump(doc, open(sys.argv[2] + f"/spdx{n//1000}k.json", "w"))
# CycloneDX 1.6 XML
out = open(sys.argv[2] + f"/bom{n//1000}k.xml", "w")
out.write('<?xml version="1.0" encoding="UTF-8"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.6" serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" version="1">\n')
out.write('<metadata><timestamp>2026-11-24T00:00:00Z</timestamp><component type="application" bom-ref="app"><name>bench-app</name><version>1.0.0</version></component></metadata>\n<components>\n')
for i in range(n):
    out.write(f'<component type="library" bom-ref="c{i}"><name>pkg-{i}</name><version>1.{i%10}.{i%7}</version><description>synthetic component number {i}</description>'
              f'<hashes><hash alg="SHA-512">{"%0128x" % i}</hash></hashes><licenses><license><id>MIT</id></license></licenses><purl>pkg:npm/%40bench/pkg-{i}@1.{i%10}.{i%7}</purl></component>\n')
out.write('</components>\n<dependencies>\n')
for i in range(n):
    out.write(f'<dependency ref="c{i}">' + "".join(f'<dependency ref="c{(i*7+k*13)%n}"/>' for k in (1,2,3) if (i*7+k*13)%n != i) + '</dependency>\n')
out.write('</dependencies>\n</bom>\n')
# SPDX 3.0.1 JSON-LD: packages with purls and hashes, three dependsOn relationships each
base = "https://example.com/bench"
graph = [{"type": "CreationInfo", "@id": "_:ci", "createdBy": [base + "/agent"], "specVersion": "3.0.1", "created": "2026-11-24T00:00:00Z"},
         {"type": "Organization", "spdxId": base + "/agent", "name": "bench", "creationInfo": "_:ci"},
         {"type": "SpdxDocument", "spdxId": base + "/doc", "creationInfo": "_:ci", "rootElement": [base + "/sbom"], "profileConformance": ["core", "software"]},
         {"type": "software_Sbom", "spdxId": base + "/sbom", "creationInfo": "_:ci", "rootElement": [base + "/pkg/0"], "software_sbomType": ["build"]}]
for i in range(n):
    graph.append({"type": "software_Package", "spdxId": f"{base}/pkg/{i}", "creationInfo": "_:ci", "name": f"pkg-{i}",
                  "software_packageVersion": f"1.{i%10}.{i%7}", "software_packageUrl": f"pkg:npm/%40bench/pkg-{i}@1.{i%10}.{i%7}",
                  "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": "%064x" % i}],
                  "description": f"synthetic package number {i}"})
for i in range(n):
    to = [f"{base}/pkg/{(i*7+k*13)%n}" for k in (1, 2, 3) if (i*7+k*13) % n != i]
    graph.append({"type": "Relationship", "spdxId": f"{base}/rel/{i}", "creationInfo": "_:ci", "from": f"{base}/pkg/{i}",
                  "relationshipType": "dependsOn", "to": to})
json.dump({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": graph}, open(sys.argv[2] + f"/spdx3-{n//1000}k.json", "w"))
