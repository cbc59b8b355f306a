using System.Globalization;
using System.Net;
using System.Text;

namespace Actors.WebConsole;

/// <summary>Small helpers for writing HTML as strings: every value from the cluster goes through <see cref="E"/>.</summary>
internal static class Html
{
    /// <summary>HTML-encodes text (element content and attribute values).</summary>
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? string.Empty);

    /// <summary>URL-encodes one path segment or query value.</summary>
    public static string U(string text) => Uri.EscapeDataString(text);

    public static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string N(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Offset(long value) => value < 0 ? "–" : value.ToString(CultureInfo.InvariantCulture);

    public static string Bytes(long? bytes)
    {
        if (bytes is not { } b || b < 0)
        {
            return "–";
        }

        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double size = b;
        var unit = 0;
        while (size >= 1024 && unit < units.Length - 1)
        {
            size /= 1024;
            unit++;
        }

        return unit == 0 ? $"{b} B" : size.ToString(size < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    public static string Rate(double? perSecond) =>
        perSecond is not { } r ? "–" : r.ToString(r < 10 ? "0.0" : "N0", CultureInfo.InvariantCulture) + "/s";

    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalDays >= 1 ? $"{(int)span.TotalDays}d {span.Hours}h"
            : span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes}m"
            : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m {span.Seconds}s"
            : $"{span.Seconds}s";
    }

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + "Z";

    /// <summary>A notice box: "ok" or "error".</summary>
    public static string Notice(string kind, string message) =>
        $"<div id=\"result\" class=\"notice {kind}\" role=\"status\">{E(message)}</div>";

    public const string Css = """
        :root{--fg:#1b1f24;--muted:#5b6470;--line:#d8dde3;--bg:#f6f7f9;--card:#fff;--ok:#157f3b;--warn:#9a6700;--bad:#b42318;--accent:#2457c5}
        @media (prefers-color-scheme: dark){:root{--fg:#e6e9ee;--muted:#9aa4b1;--line:#343b45;--bg:#14171b;--card:#1c2026;--accent:#7aa2f7}}
        *{box-sizing:border-box}
        body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.25rem;padding:.6rem 1rem;background:var(--card);border-bottom:1px solid var(--line)}
        header .brand{font-weight:700;color:var(--fg);text-decoration:none}
        nav{display:flex;flex-wrap:wrap;gap:.25rem}
        nav a{padding:.3rem .65rem;border-radius:6px;color:var(--fg);text-decoration:none}
        nav a.on{background:var(--accent);color:#fff}
        header .silo{margin-left:auto;color:var(--muted);font-size:.85rem}
        main{padding:1rem;max-width:1400px;margin:0 auto}
        h1{font-size:1.35rem;margin:.2rem 0 1rem}
        h2{font-size:1.1rem;margin:1.5rem 0 .6rem}
        a{color:var(--accent)}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:.6rem;margin-bottom:1rem}
        .card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.55rem .75rem}
        .card b{display:block;font-size:1.3rem}
        .card span{color:var(--muted);font-size:.8rem}
        .scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}
        table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
        th,td{padding:.4rem .6rem;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap;vertical-align:top}
        th{font-size:.78rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
        td.num,th.num{text-align:right}
        tr:last-child td{border-bottom:0}
        tr.under td{background:rgba(154,103,0,.09)}
        tr.offline td{background:rgba(180,35,24,.11)}
        .badge{display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.8rem;font-weight:600;border:1px solid currentColor}
        .s-Active,.ok{color:var(--ok)}
        .s-Joining,.s-Created,.s-ShuttingDown,.s-Stopping,.warn{color:var(--warn)}
        .s-Dead,.bad{color:var(--bad)}
        .muted{color:var(--muted)}
        pre{margin:0;white-space:pre-wrap;word-break:break-all;max-width:48ch;font:12.5px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
        form{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem;margin:.75rem 0;display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-end}
        form.danger{border-color:var(--bad)}
        label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted);gap:.15rem}
        input,select,textarea{font:inherit;padding:.35rem .45rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);min-width:7rem}
        textarea{min-height:2.3rem;min-width:14rem}
        button{font:inherit;padding:.4rem .9rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
        button.danger{background:var(--bad);border-color:var(--bad)}
        .notice{padding:.6rem .8rem;border-radius:8px;margin:.75rem 0;border:1px solid}
        .notice.ok{color:var(--ok);background:rgba(21,127,59,.08)}
        .notice.error{color:var(--bad);background:rgba(180,35,24,.08)}
        .chart{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.5rem}
        .chart svg{width:100%;height:auto;display:block}
        footer{color:var(--muted);font-size:.8rem;padding:0 1rem 1rem;max-width:1400px;margin:0 auto}
        @media (max-width:640px){main{padding:.6rem}header .silo{margin-left:0;width:100%}th,td{padding:.35rem .45rem}form{flex-direction:column;align-items:stretch}}
        """;

    /// <summary>Refreshes every element with a data-live URL in place, every <paramref name="refreshMs"/> ms.</summary>
    public static string PollScript(int refreshMs) => $$"""
        (function(){
          const status=document.getElementById('updated');
          async function tick(){
            for(const el of document.querySelectorAll('[data-live]')){
              try{
                const r=await fetch(el.dataset.live,{cache:'no-store'});
                if(r.ok){el.innerHTML=await r.text();el.dataset.refreshed=String(Date.now());status.textContent='Updated '+new Date().toLocaleTimeString();}
                else{status.textContent='Update failed: HTTP '+r.status+' '+(await r.text()).slice(0,200);}
              }catch(e){status.textContent='This silo is not answering: '+e.message;}
            }
            setTimeout(tick,{{refreshMs}});
          }
          setTimeout(tick,{{refreshMs}});
        })();
        """;

    public static string Page(string title, string active, ConsoleData data, ConsoleAccess? access, string body)
    {
        var html = new StringBuilder(8192);
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(E(title)).Append(" · Actors console</title><style>").Append(Css).Append("</style></head><body>")
            .Append("<header><a class=\"brand\" href=\"/console/\">Actors</a><nav>");
        foreach (var (name, href) in new[] { ("Cluster", "/console/cluster"), ("Topics", "/console/topics"), ("Consumer groups", "/console/groups"), ("Messages", "/console/messages") })
        {
            html.Append("<a href=\"").Append(href).Append('"').Append(name == active ? " class=\"on\"" : "").Append('>').Append(name).Append("</a>");
        }

        html.Append("</nav><span class=\"silo\">served by silo <b>").Append(E(data.ThisSilo)).Append("</b> · ")
            .Append(access is { Enabled: true } ? $"<span id=\"principal\">{E(access.Principal)}</span> (ACLs apply) · " : "")
            .Append(data.Options.AllowChanges ? "<span class=\"warn\">changes allowed</span>" : "<span id=\"read-only\">read-only</span>")
            .Append("</span></header><main>").Append(body).Append("</main><footer id=\"updated\">Rendered ")
            .Append(Time(DateTimeOffset.UtcNow)).Append("</footer><script>")
            .Append(PollScript((int)data.Options.RefreshInterval.TotalMilliseconds)).Append("</script></body></html>");
        return html.ToString();
    }
}
