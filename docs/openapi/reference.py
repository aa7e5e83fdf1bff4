#!/usr/bin/env python3
"""Writes docs/api-reference.md, the human API reference, from agent.json and gateway.json.

Run it after generate.py and commit the result; `.ci/openapi-check.sh` fails when the
committed reference differs from its output. With a directory argument it reads the JSON
documents from there and writes api-reference.md there instead (what the check does).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
METHODS = ("get", "put", "post", "delete", "patch", "head")


def code(text):
    """A Markdown code span (`cell` escapes the pipes when it goes into a table)."""
    text = str(text)
    tick = "``" if "`" in text else "`"
    pad = " " if tick == "``" else ""
    return f"{tick}{pad}{text}{pad}{tick}"


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def anchor(name):
    return name.lower()


class Doc:
    def __init__(self, doc):
        self.doc = doc
        self.schemas = doc.get("components", {}).get("schemas", {})

    def resolve(self, schema):
        """The schema a `$ref` names, with the referring schema's own keys on top."""
        if "$ref" not in schema:
            return schema
        target = self.resolve(self.schemas[schema["$ref"].rsplit("/", 1)[1]])
        return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}

    def type_of(self, schema):
        """A short type: a schema name (linked), `string`, `array of integer`, …"""
        if schema == {}:
            return "any JSON"
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            return f"[{name}](#{anchor(name)})"
        if "oneOf" in schema or "anyOf" in schema:
            alts = schema.get("oneOf") or schema.get("anyOf")
            if all("required" in a and len(a) == 1 for a in alts):
                return self.type_of({k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")})
            return " or ".join(self.type_of(a) for a in alts)
        ty = schema.get("type")
        if isinstance(ty, list):
            return " or ".join(ty)
        if ty == "array":
            return f"array of {self.type_of(schema.get('items', {}))}"
        if ty == "object" and isinstance(schema.get("additionalProperties"), dict):
            return f"object of name → {self.type_of(schema['additionalProperties'])}"
        if ty:
            return ty
        return "any" if not schema.get("properties") else "object"

    def rules(self, schema):
        """The validation rules of one schema (not of its properties), as short phrases."""
        out = []
        if "const" in schema:
            out.append(f"exactly {code(json.dumps(schema['const']))}")
        if "enum" in schema:
            out.append("one of " + ", ".join(code(v) for v in schema["enum"]))
        if "minimum" in schema and "maximum" in schema:
            out.append(f"{schema['minimum']}…{schema['maximum']}")
        elif "minimum" in schema:
            out.append(f"≥ {schema['minimum']}")
        elif "maximum" in schema:
            out.append(f"≤ {schema['maximum']}")
        if "maxLength" in schema:
            out.append(f"at most {schema['maxLength']} characters")
        if "pattern" in schema:
            out.append(f"matches {code(schema['pattern'])}")
        if "propertyNames" in schema and "pattern" in schema["propertyNames"]:
            out.append(f"names match {code(schema['propertyNames']['pattern'])}")
        if isinstance(schema.get("additionalProperties"), dict):
            out.extend(f"values: {r}" for r in self.rules(schema["additionalProperties"]))
        if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
            out.extend(f"items: {r}" for r in self.rules(schema["items"]))
        for key in ("oneOf", "anyOf"):
            alts = schema.get(key, [])
            if alts and all("required" in a and len(a) == 1 for a in alts):
                names = [code(n) for a in alts for n in a["required"]]
                out.append("needs " + " or ".join(names))
            elif alts:
                for alt in alts:
                    rules = self.rules(alt)
                    if rules:
                        out.append(f"as {self.type_of(alt)}: " + "; ".join(rules))
        if "required" in schema and schema.get("type") != "object" and "properties" not in schema:
            out.append("needs " + ", ".join(code(n) for n in schema["required"]))
        if "if" in schema and "then" in schema:
            out.append(self.conditional(schema["if"], schema["then"]))
        return out


    def conditional(self, cond, then):
        parts = []
        for name, sub in cond.get("properties", {}).items():
            if "const" in sub:
                parts.append(f"{code(name)} is {code(sub['const'])}")
            elif "pattern" in sub:
                parts.append(f"{code(name)} matches {code(sub['pattern'])}")
        need = ", ".join(code(n) for n in then.get("required", []))
        text = f"when {' and '.join(parts)}: {need} required"
        for name, sub in then.get("properties", {}).items():
            rules = self.rules(sub)
            text += f", {code(name)} is {self.type_of(sub)}" + (f" ({'; '.join(rules)})" if rules else "")
        return text

    def fields(self, schema, prefix=""):
        """Rows (field, type, required, rules, description) of an object body, nested ones dotted."""
        schema = self.resolve(schema)
        rows = []
        required = set(schema.get("required", []))
        for name, sub in schema.get("properties", {}).items():
            full = prefix + name
            resolved = self.resolve(sub)
            # A named schema's own rules are in its section; here only what the field adds.
            rules = self.rules({k: v for k, v in sub.items() if k != "$ref"})
            rows.append((full, self.type_of(sub), name in required, rules, resolved.get("description", "")))
            if resolved.get("type") == "object" and resolved.get("properties") and "$ref" not in sub:
                rows.extend(self.fields(resolved, full + "."))
        return rows

    def scope(self, op):
        security = op.get("security", self.doc.get("security", []))
        scopes = [s for req in security for s in req.get("bearerJWT", [])]
        if not scopes and security and any("bearerJWT" in req for req in security):
            return "bearer JWT"
        if not scopes:
            return "none (no authentication)"
        text = " or ".join(code(s) for s in scopes)
        if {} in security:
            text += " (only when authentication is on)"
        return text


def operation(d, path, method, op):
    out = [f"### `{method.upper()} {path}`", "", op["summary"] + ".", ""]
    if op.get("description"):
        out += [op["description"], ""]
    if op.get("x-spp-terminates"):
        out += ["Terminates the process: afterwards its routes answer 404.", ""]
    out += [f"Scope: {d.scope(op)}", ""]
    params = op.get("parameters", [])
    if params:
        out += ["| parameter | in | type | rules | description |", "|---|---|---|---|---|"]
        for p in params:
            schema = p["schema"]
            rules = d.rules({k: v for k, v in schema.items() if k != "$ref"})
            desc = p.get("description") or d.resolve(schema).get("description", "")
            out.append(f"| {code(p['name'])} | {p['in']}{'' if p.get('required') else ', optional'} | "
                       f"{d.type_of(schema)} | {cell('; '.join(rules))} | {cell(desc)} |")
        out.append("")
    body = op.get("requestBody")
    if body:
        media, content = next(iter(body["content"].items()))
        schema = content["schema"]
        need = "required" if body.get("required") else "optional"
        rows = d.fields(schema)
        if rows:
            out += [f"Body ({need}, {code(media)}):", "",
                    "| field | type | required | rules | description |", "|---|---|---|---|---|"]
            for name, ty, req, rules, desc in rows:
                out.append(f"| {code(name)} | {ty} | {'yes' if req else 'no'} | {cell('; '.join(rules))} | "
                           f"{cell(desc)} |")
            whole = d.rules(d.resolve(schema))
            if whole:
                out += ["", "Also: " + "; ".join(whole) + "."]
        else:
            out.append(f"Body ({need}, {code(media)}): {d.type_of(schema)}, passed on unchanged.")
        out.append("")
    out += ["| status | content type | meaning | body or texts |", "|---|---|---|---|"]
    for status, resp in op["responses"].items():
        content = resp.get("content", {})
        meaning = resp["description"] + "".join(f"; header {code(name)}: {h.get('description', '')}"
                                                for name, h in resp.get("headers", {}).items())
        if not content:
            out.append(f"| {status} | — | {cell(meaning)} | none |")
        for media, c in content.items():
            examples = [e["value"] for e in c.get("examples", {}).values()]
            if examples:
                what = "<br>".join(code(e) for e in examples)
            else:
                what = d.type_of(c.get("schema", {}))
            out.append(f"| {status} | {code(media)} | {cell(meaning)} | {what} |")
    out.append("")
    return out


def schema_section(d, name, schema):
    out = [f"### {name}", ""]
    if schema.get("description"):
        out += [schema["description"], ""]
    rows = d.fields(schema)
    if rows:
        out += ["| field | type | required | rules | description |", "|---|---|---|---|---|"]
        for field, ty, req, rules, desc in rows:
            out.append(f"| {code(field)} | {ty} | {'yes' if req else 'no'} | {cell('; '.join(rules))} | "
                       f"{cell(desc)} |")
        whole = [r for r in d.rules(schema) if not r.startswith("needs ")]
        if whole:
            out += ["", "Also: " + "; ".join(whole) + "."]
    else:
        rules = d.rules(schema)
        out.append(f"{d.type_of(schema)}" + (": " + "; ".join(rules) if rules else "") + ".")
    if "examples" in schema:
        out += ["", "Examples: " + ", ".join(code(json.dumps(e) if not isinstance(e, str) else e)
                                              for e in schema["examples"])]
    elif "example" in schema:
        out += ["", "Example: " + code(json.dumps(schema["example"]))]
    out.append("")
    return out


def section(title, doc):
    d = Doc(doc)
    ops = [(path, m, item[m]) for path, item in doc["paths"].items() for m in METHODS if m in item]
    out = [f"## {title}", "", doc["info"]["description"], "",
           f"Default base URL: {code(doc['servers'][0]['url'])}. Document: `GET /openapi.json`.", "",
           "| method | path | summary | scope |", "|---|---|---|---|"]
    for path, method, op in ops:
        out.append(f"| {method.upper()} | {code(path)} | {cell(op['summary'])} | {d.scope(op)} |")
    out.append("")
    for path, method, op in ops:
        out += operation(d, path, method, op)
    out += [f"## {title}: schemas", ""]
    for name, schema in d.schemas.items():
        out += schema_section(d, name, schema)
    return out


def render(agent, gateway):
    scheme = agent["components"]["securitySchemes"]["bearerJWT"]
    lines = ["# spp-ctl API reference", "",
             "<!-- Generated by docs/openapi/reference.py from docs/openapi/agent.json and gateway.json;"
             " do not edit. -->", "",
             "Every route of the agent (REST API v1) and of the gateway: parameters, body fields and "
             "their rules, answers with their exact error texts, and the scope a token needs. The "
             "machine-readable documents are [agent.json](openapi/agent.json) and "
             "[gateway.json](openapi/gateway.json).", "",
             "Authentication: " + scheme["description"], ""]
    lines += section("Agent API v1", agent)
    lines += section("Gateway API", gateway)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(directory=None):
    src = directory or HERE
    docs = {}
    for name in ("agent", "gateway"):
        with open(os.path.join(src, f"{name}.json"), encoding="utf-8") as f:
            docs[name] = json.load(f)
    target = os.path.join(directory, "api-reference.md") if directory else os.path.join(
        HERE, "..", "api-reference.md")
    with open(target, "w", encoding="utf-8") as f:
        f.write(render(docs["agent"], docs["gateway"]))


if __name__ == "__main__":
    main(*sys.argv[1:2])
