#!/usr/bin/env python3
"""Writes C# message classes with readers and writers for the Kafka APIs the listener serves.

Input: Kafka's JSON message definitions (the folder is the first argument). Output: one file per message in
src/Actors.Kafka/Protocol/Messages/Generated/. Only field names, types, versions, tags and defaults are taken from
the definitions (they are the protocol); the code is ours. Run it again after adding a message to MESSAGES:

    python3 eng/kafka-codegen/generate.py ../shared/reference/kafka-protocol
"""
import json
import os
import re
import sys

# The messages the listener reads (requests) and writes (responses), and the data types it encodes itself.
MESSAGES = [
    "Produce", "Fetch", "ListOffsets", "FindCoordinator", "OffsetForLeaderEpoch",
    "JoinGroup", "SyncGroup", "Heartbeat", "LeaveGroup", "ConsumerGroupHeartbeat", "ConsumerGroupDescribe",
    "OffsetCommit", "OffsetFetch", "DescribeGroups", "ListGroups", "DeleteGroups", "OffsetDelete",
    "CreateTopics", "DeleteTopics", "CreatePartitions", "DescribeConfigs", "IncrementalAlterConfigs",
    "InitProducerId", "DescribeCluster",
    "SaslHandshake", "SaslAuthenticate", "DescribeUserScramCredentials", "AlterUserScramCredentials",
    "CreateAcls", "DescribeAcls", "DeleteAcls",
]
DATA_TYPES = ["ConsumerProtocolSubscription", "ConsumerProtocolAssignment"]

PRIMITIVES = {
    "bool": ("bool", "ReadBoolean", "WriteBoolean", "false"),
    "int8": ("sbyte", "ReadInt8", "WriteInt8", "0"),
    "int16": ("short", "ReadInt16", "WriteInt16", "0"),
    "uint16": ("ushort", "ReadUInt16", "WriteUInt16", "0"),
    "int32": ("int", "ReadInt32", "WriteInt32", "0"),
    "uint32": ("uint", "ReadUInt32", "WriteUInt32", "0"),
    "int64": ("long", "ReadInt64", "WriteInt64", "0"),
    "float64": ("double", "ReadFloat64", "WriteFloat64", "0"),
    "uuid": ("Guid", "ReadUuid", "WriteUuid", "Guid.Empty"),
}


class Versions:
    """A version range as the definitions write it: "3+", "1-4", "7", "none"."""

    def __init__(self, text):
        text = (text or "none").strip()
        if text == "none":
            self.low, self.high = None, None
        elif text.endswith("+"):
            self.low, self.high = int(text[:-1]), None
        elif "-" in text:
            low, high = text.split("-")
            self.low, self.high = int(low), int(high)
        else:
            self.low = self.high = int(text)

    @property
    def empty(self):
        return self.low is None

    def condition(self, var="version"):
        """A C# condition true for the versions in the range ("true" for all)."""
        if self.empty:
            return "false"
        parts = []
        if self.low > 0:
            parts.append(f"{var} >= {self.low}")
        if self.high is not None:
            parts.append(f"{var} <= {self.high}")
        return " && ".join(parts) if parts else "true"

    def intersect(self, other):
        if self.empty or other.empty:
            return Versions("none")
        low = max(self.low, other.low)
        highs = [h for h in (self.high, other.high) if h is not None]
        high = min(highs) if highs else None
        if high is not None and high < low:
            return Versions("none")
        result = Versions("none")
        result.low, result.high = low, high
        return result

    def covers_all_of(self, other):
        if other.empty:
            return True
        if self.empty:
            return False
        if self.low > other.low:
            return False
        if self.high is None:
            return True
        return other.high is not None and self.high >= other.high


def strip_comments(text):
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))


def load(folder, name):
    with open(os.path.join(folder, name + ".json"), encoding="utf-8") as f:
        return json.loads(strip_comments(f.read()))


def pascal(name):
    return name[0].upper() + name[1:]


def cs_literal(value, cs_type):
    value = str(value).lower() if isinstance(value, bool) else str(value)
    if cs_type == "bool":
        return value
    if cs_type == "Guid":
        return "Guid.Empty"
    if value.lower().startswith("0x"):
        return str(int(value, 16))
    return value


class Generator:
    def __init__(self, spec):
        self.spec = spec
        self.message_name = spec["name"]
        self.class_name = self.message_name + ("Data" if spec["type"] in ("request", "response") else "")
        self.valid = Versions(spec.get("validVersions", "0+"))
        self.flexible = Versions(spec.get("flexibleVersions", "none"))
        self.structs = {}  # struct name -> (versions, fields)
        self.struct_class = {}  # struct name -> C# class name
        self.top_properties = {self.prop_name(f, self.class_name) for f in spec.get("fields", [])}
        for common in spec.get("commonStructs", []):
            self.register_struct(common["name"], Versions(common.get("versions", "0+")), common["fields"])
        self.collect(spec.get("fields", []))

    def register_struct(self, name, versions, fields):
        if name in self.structs:
            return
        self.structs[name] = (versions, fields)
        cls = name
        if cls in self.top_properties or cls == self.class_name:
            cls = name + "Item"
        self.struct_class[name] = cls
        self.collect(fields)

    def collect(self, fields):
        for field in fields:
            element = field["type"][2:] if field["type"].startswith("[]") else field["type"]
            if "fields" in field:
                self.register_struct(element, Versions(field.get("versions", "0+")), field["fields"])

    @staticmethod
    def prop_name(field, owner):
        name = pascal(field["name"])
        return name + "Value" if name == owner else name

    # ----- types -----

    def is_struct(self, type_name):
        return type_name in self.structs

    def field_cs_type(self, field):
        t = field["type"]
        nullable = not Versions(field.get("nullableVersions", "none")).empty
        if t.startswith("[]"):
            element = t[2:]
            cs = f"List<{self.element_cs_type(element)}>"
            return cs + ("?" if nullable else "")
        if t in PRIMITIVES:
            return PRIMITIVES[t][0]
        if t == "string":
            return "string?" if nullable else "string"
        if t == "bytes":
            return "byte[]?" if nullable else "byte[]"
        if t == "records":
            return "ReadOnlyMemory<byte>"
        if self.is_struct(t):
            return self.struct_class[t] + ("?" if nullable else "")
        raise ValueError(f"unknown type {t} in {self.message_name}")

    def element_cs_type(self, element):
        if element in PRIMITIVES:
            return PRIMITIVES[element][0]
        if element == "string":
            return "string"
        if self.is_struct(element):
            return self.struct_class[element]
        raise ValueError(f"unknown array element {element} in {self.message_name}")

    def default_value(self, field):
        t = field["type"]
        default = field.get("default")
        nullable = not Versions(field.get("nullableVersions", "none")).empty
        if t.startswith("[]"):
            return "null" if (default == "null" and nullable) else "[]"
        if t in PRIMITIVES:
            cs = PRIMITIVES[t][0]
            return cs_literal(default, cs) if default not in (None, "") else PRIMITIVES[t][3]
        if t == "string":
            if default == "null" and nullable:
                return "null"
            return json.dumps(default) if default not in (None, "null") else '""'
        if t == "bytes":
            return "null" if (default == "null" and nullable) else "[]"
        if t == "records":
            return "ReadOnlyMemory<byte>.Empty"
        if self.is_struct(t):
            return "null" if (default == "null" or nullable) else f"new()"
        raise ValueError(t)

    # ----- code -----

    def emit(self):
        out = []
        w = out.append
        w("// <auto-generated>")
        w("// Written by eng/kafka-codegen/generate.py from Kafka's message definitions; do not edit by hand.")
        w("// </auto-generated>")
        w("#nullable enable")
        w("")
        w("using System.Buffers;")
        w("")
        w("namespace Actors.Kafka.Protocol.Messages;")
        w("")
        kind = self.spec["type"]
        w(f"/// <summary>Kafka's {self.message_name} ({kind}{', API key ' + str(self.spec['apiKey']) if 'apiKey' in self.spec else ''}), "
          f"versions {self.valid.low} to {self.valid.high}.</summary>")
        w(f"public sealed partial class {self.class_name} : IKafkaMessage<{self.class_name}>")
        w("{")
        if "apiKey" in self.spec:
            w(f"    public const short ApiKey = {self.spec['apiKey']};")
            w("")
        w(f"    public const short LowestVersion = {self.valid.low};")
        w("")
        w(f"    public const short HighestVersion = {self.valid.high};")
        w("")
        self.emit_body(out, self.class_name, self.spec.get("fields", []), self.valid, indent="    ", top=True)
        for name, (versions, fields) in self.structs.items():
            cls = self.struct_class[name]
            w("")
            w(f"    public sealed partial class {cls}")
            w("    {")
            self.emit_body(out, cls, fields, versions.intersect(self.valid) if not versions.empty else self.valid,
                           indent="        ", top=False)
            w("    }")
        w("}")
        return "\n".join(out) + "\n"

    def flexible_expr(self):
        return self.flexible.condition()

    def emit_body(self, out, cls, fields, versions, indent, top):
        w = lambda line="": out.append(indent + line if line else "")
        for field in fields:
            prop = self.prop_name(field, cls)
            w(f"public {self.field_cs_type(field)} {prop} {{ get; set; }} = {self.default_value(field)};")
            w()
        static = "public static" if top else "internal static"
        # Reader.
        w(f"{static} {cls} Read(ref KafkaReader reader, short version)")
        w("{")
        w(f"    var flexible = {self.flexible_expr()};")
        w(f"    var result = new {cls}();")
        for field in fields:
            fv = Versions(field.get("versions", "0+"))
            tagged = Versions(field.get("taggedVersions", "none"))
            if not tagged.empty:
                continue
            prop = self.prop_name(field, cls)
            cond = fv.condition()
            if cond == "false":
                continue
            body = self.read_value(field, f"result.{prop}")
            if cond == "true":
                for line in body:
                    w("    " + line)
            else:
                w(f"    if ({cond})")
                w("    {")
                for line in body:
                    w("        " + line)
                w("    }")
        w("    if (flexible)")
        w("    {")
        tagged_fields = [f for f in fields if not Versions(f.get("taggedVersions", "none")).empty]
        if tagged_fields:
            w("        var count = reader.ReadTaggedFieldCount();")
            w("        var previous = -1;")
            w("        for (var i = 0; i < count; i++)")
            w("        {")
            w("            var tagged = reader.ReadTaggedField(previous);")
            w("            previous = tagged.Tag;")
            w("            var inner = tagged.Reader();")
            w("            switch (tagged.Tag)")
            w("            {")
            for field in tagged_fields:
                prop = self.prop_name(field, cls)
                tv = Versions(field["taggedVersions"])
                w(f"                case {field['tag']} when {tv.condition()}:")
                w("                {")
                for line in self.read_value(field, f"result.{prop}", reader="inner", force_flexible=True):
                    w("                    " + line)
                w("                    break;")
                w("                }")
            w("            }")
            w("        }")
        else:
            w("        reader.SkipTaggedFields();")
        w("    }")
        w("")
        w("    return result;")
        w("}")
        w()
        # Writer.
        w(f"{'public' if top else 'internal'} void Write(ref KafkaWriter writer, short version)")
        w("{")
        w(f"    var flexible = {self.flexible_expr()};")
        for field in fields:
            fv = Versions(field.get("versions", "0+"))
            tagged = Versions(field.get("taggedVersions", "none"))
            if not tagged.empty:
                continue
            prop = self.prop_name(field, cls)
            cond = fv.condition()
            if cond == "false":
                continue
            body = self.write_value(field, prop)
            if cond == "true":
                for line in body:
                    w("    " + line)
            else:
                w(f"    if ({cond})")
                w("    {")
                for line in body:
                    w("        " + line)
                w("    }")
        w("    if (flexible)")
        w("    {")
        if tagged_fields:
            w("        var taggedCount = 0;")
            for field in tagged_fields:
                prop = self.prop_name(field, cls)
                tv = Versions(field["taggedVersions"])
                w(f"        if ({tv.condition()} && {self.differs_from_default(field, prop)})")
                w("        {")
                w("            taggedCount++;")
                w("        }")
            w("")
            w("        writer.WriteUnsignedVarint((uint)taggedCount);")
            for field in sorted(tagged_fields, key=lambda f: f["tag"]):
                prop = self.prop_name(field, cls)
                tv = Versions(field["taggedVersions"])
                w(f"        if ({tv.condition()} && {self.differs_from_default(field, prop)})")
                w("        {")
                w("            var buffer = new ArrayBufferWriter<byte>();")
                w("            var inner = new KafkaWriter(buffer);")
                for line in self.write_value(field, prop, writer="inner", force_flexible=True):
                    w("            " + line)
                w(f"            writer.WriteTaggedFieldHead({field['tag']}, buffer.WrittenCount);")
                w("            writer.WriteRaw(buffer.WrittenSpan);")
                w("        }")
        else:
            w("        writer.WriteEmptyTaggedFields();")
        w("    }")
        w("}")

    def differs_from_default(self, field, prop):
        t = field["type"]
        default = self.default_value(field)
        if t.startswith("[]"):
            return f"{prop} is {{ Count: > 0 }}" if default == "[]" else f"{prop} is not null"
        if t == "bytes":
            return f"{prop} is {{ Length: > 0 }}" if default == "[]" else f"{prop} is not null"
        if t == "records":
            return f"!{prop}.IsEmpty"
        if self.is_struct(t):
            return f"{prop} is not null"
        if t == "string":
            return f"{prop} is not null" if default == "null" else f"!string.Equals({prop}, {default}, StringComparison.Ordinal)"
        return f"{prop} != {default}"

    def read_value(self, field, target, reader="reader", force_flexible=False):
        t = field["type"]
        name = field["name"]
        nullable = Versions(field.get("nullableVersions", "none"))
        flex = "true" if force_flexible else "flexible"
        null_cond = nullable.condition()
        if t.startswith("[]"):
            element = t[2:]
            lines = []
            if null_cond == "false":
                lines.append(f"var n = {reader}.ReadArrayCount({flex}, \"{name}\", ProtocolLimits.ArrayElementsMax);")
            elif null_cond == "true":
                lines.append(f"var n = {reader}.ReadNullableArrayCount({flex}, \"{name}\", ProtocolLimits.ArrayElementsMax);")
            else:
                lines.append(f"var n = {null_cond} ? {reader}.ReadNullableArrayCount({flex}, \"{name}\", ProtocolLimits.ArrayElementsMax) : {reader}.ReadArrayCount({flex}, \"{name}\", ProtocolLimits.ArrayElementsMax);")
            cs = self.element_cs_type(element)
            lines.append("if (n < 0)")
            lines.append("{")
            lines.append(f"    {target} = null!;")
            lines.append("}")
            lines.append("else")
            lines.append("{")
            lines.append(f"    var list = new List<{cs}>(Math.Min(n, 1024));")
            lines.append("    for (var j = 0; j < n; j++)")
            lines.append("    {")
            lines.append(f"        list.Add({self.read_element(element, reader, flex, name)});")
            lines.append("    }")
            lines.append("")
            lines.append(f"    {target} = list;")
            lines.append("}")
            return ["{"] + ["    " + l for l in lines] + ["}"]
        return [f"{target} = {self.read_scalar(t, reader, flex, name, null_cond)};"]

    def read_element(self, element, reader, flex, name):
        if element in PRIMITIVES:
            return f"{reader}.{PRIMITIVES[element][1]}()"
        if element == "string":
            return f"{reader}.ReadString({flex}, \"{name}\")"
        return f"{self.class_name}.{self.struct_class[element]}.Read(ref {reader}, version)"

    def read_scalar(self, t, reader, flex, name, null_cond):
        if t in PRIMITIVES:
            return f"{reader}.{PRIMITIVES[t][1]}()"
        if t == "string":
            if null_cond == "false":
                return f"{reader}.ReadString({flex}, \"{name}\")"
            if null_cond == "true":
                return f"{reader}.ReadNullableString({flex}, \"{name}\")"
            return f"({null_cond} ? {reader}.ReadNullableString({flex}, \"{name}\") : {reader}.ReadString({flex}, \"{name}\"))"
        if t in ("bytes", "records"):
            nullable_read = f"({flex} ? {reader}.ReadCompactNullableBytes(\"{name}\") : {reader}.ReadNullableBytes(\"{name}\"))"
            plain_read = f"({flex} ? {reader}.ReadCompactBytes(\"{name}\").ToArray() : {reader}.ReadBytes(\"{name}\").ToArray())"
            if t == "records":
                return f"{nullable_read} ?? ReadOnlyMemory<byte>.Empty"
            if null_cond == "false":
                return plain_read
            if null_cond == "true":
                return nullable_read
            return f"({null_cond} ? {nullable_read} : {plain_read})"
        if self.is_struct(t):
            cls = self.class_name + "." + self.struct_class[t]
            if null_cond == "false":
                return f"{cls}.Read(ref {reader}, version)"
            # A nullable struct is preceded by an int8: -1 for null, 1 when present.
            return f"({reader}.ReadInt8() < 0 ? null : {cls}.Read(ref {reader}, version))"
        raise ValueError(t)

    def write_value(self, field, prop, writer="writer", force_flexible=False):
        t = field["type"]
        name = field["name"]
        nullable = Versions(field.get("nullableVersions", "none"))
        null_cond = nullable.condition()
        flex = "true" if force_flexible else "flexible"
        if t.startswith("[]"):
            element = t[2:]
            lines = []
            if null_cond == "false":
                lines.append(f"{writer}.WriteArrayCount({flex}, ({prop} ?? throw new InvalidOperationException(\"{name} may not be null\")).Count);")
            else:
                lines.append(f"{writer}.WriteNullableArrayCount({flex}, {prop}?.Count);")
            lines.append(f"foreach (var element in {prop} ?? [])")
            lines.append("{")
            lines.append("    " + self.write_element(element, writer, flex, name))
            lines.append("}")
            return lines
        if t in PRIMITIVES:
            return [f"{writer}.{PRIMITIVES[t][2]}({prop});"]
        if t == "string":
            if null_cond == "false":
                return [f"{writer}.WriteString({flex}, {prop} ?? \"\", \"{name}\");"]
            return [f"{writer}.WriteNullableString({flex}, {prop}, \"{name}\");"]
        if t == "bytes":
            return [f"if ({flex})", "{", f"    {writer}.WriteCompactNullableBytes({prop});", "}", "else", "{",
                    f"    {writer}.WriteNullableBytes({prop});", "}"]
        if t == "records":
            return [f"if ({flex})", "{", f"    {writer}.WriteCompactBytes({prop}.Span);", "}", "else", "{",
                    f"    {writer}.WriteBytes({prop}.Span);", "}"]
        if self.is_struct(t):
            if null_cond == "false":
                return [f"({prop} ?? new()).Write(ref {writer}, version);"]
            return [f"if ({prop} is null)", "{", f"    {writer}.WriteInt8(-1);", "}", "else", "{",
                    f"    {writer}.WriteInt8(1);", f"    {prop}.Write(ref {writer}, version);", "}"]
        raise ValueError(t)

    def write_element(self, element, writer, flex, name):
        if element in PRIMITIVES:
            return f"{writer}.{PRIMITIVES[element][2]}(element);"
        if element == "string":
            return f"{writer}.WriteString({flex}, element, \"{name}\");"
        return f"element.Write(ref {writer}, version);"


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../shared/reference/kafka-protocol")
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
    target = os.path.join(root, "src/Actors.Kafka/Protocol/Messages/Generated")
    os.makedirs(target, exist_ok=True)
    for old in os.listdir(target):
        if old.endswith(".g.cs"):
            os.remove(os.path.join(target, old))
    names = [m + kind for m in MESSAGES for kind in ("Request", "Response")] + DATA_TYPES
    for name in names:
        spec = load(folder, name)
        generator = Generator(spec)
        with open(os.path.join(target, generator.class_name + ".g.cs"), "w", encoding="utf-8") as f:
            f.write(generator.emit())
    cases = []
    for message in MESSAGES:
        spec = load(folder, message + "Request")
        cases.append(f"            {spec['apiKey']} => {message}RequestData.Read(ref reader, version),")
    with open(os.path.join(target, "KafkaRequests.g.cs"), "w", encoding="utf-8") as f:
        f.write("\n".join([
            "// <auto-generated>",
            "// Written by eng/kafka-codegen/generate.py; do not edit by hand.",
            "// </auto-generated>",
            "#nullable enable",
            "",
            "namespace Actors.Kafka.Protocol.Messages;",
            "",
            "/// <summary>Reads the body of any request with a generated message, by API key.</summary>",
            "public static class KafkaRequests",
            "{",
            "    /// <summary>The request body of API <paramref name=\"apiKey\"/> in <paramref name=\"version\"/>; null when the key has no",
            "    /// generated message.</summary>",
            "    public static object? Read(short apiKey, ref KafkaReader reader, short version) =>",
            "        apiKey switch",
            "        {",
            *cases,
            "            _ => null,",
            "        };",
            "}",
            "",
        ]))
    print(f"wrote {len(names)} messages to {os.path.relpath(target, root)}")


if __name__ == "__main__":
    main()
