using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace SharpVision.Diffusion.Clip;

/// <summary>
/// The text cleaning CLIP's tokenizer applies before BPE (transformers models/clip/tokenization_clip.py:
/// <c>whitespace_clean(ftfy.fix_text(text)).lower()</c>). The ftfy 6 steps reproduced: HTML entities unescaped (unless
/// the text contains '&lt;'), C1 controls read as Windows-1252, Latin ligatures split, full- and half-width forms
/// mapped as NFKC maps them, curly quotes straightened, control characters removed, NFC. Not reproduced: ftfy's
/// mojibake repair (<c>fix_encoding</c>) and terminal-escape removal.
/// </summary>
public static partial class CLIPTextCleaner
{
    /// <summary>ftfy's fix_text, then whitespace runs collapsed to one space, trimmed, lower-cased.</summary>
    public static string Clean(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var fixedText = FixText(text);
        return Whitespace().Replace(fixedText, " ").Trim(' ').ToLowerInvariant();
    }

    /// <summary>The ftfy <c>fix_text</c> steps listed on the class, in ftfy's order.</summary>
    public static string FixText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Contains('<')) text = HtmlEntity().Replace(text, m => WebUtility.HtmlDecode(m.Value));
        var sb = new StringBuilder(text.Length);
        foreach (char raw in text)
        {
            char c = raw is >= '\u0080' and <= '\u009F' ? Windows1252(raw) : raw;
            if (Ligature(c) is string split) sb.Append(split);
            else if (Width(c) is string narrow) sb.Append(narrow);
            else if (c is '\u02BC' or (>= '\u2018' and <= '\u201B')) sb.Append('\'');
            else if (c is >= '\u201C' and <= '\u201F') sb.Append('"');
            else if (!IsRemovedControl(c)) sb.Append(c);
        }
        return UnicodeNfc.Normalize(sb.ToString());
    }

    // ftfy chardata.LIGATURES: NFKC of "ĲĳŉǄǅǆǇǈǉǊǋǌǱǲǳﬀﬁﬂﬃﬄﬅﬆ".
    static string? Ligature(char c) => c switch
    {
        'Ĳ' => "IJ", 'ĳ' => "ij", 'ŉ' => "\u02BCn",
        'Ǆ' => "D\u017D", 'ǅ' => "D\u017E", 'ǆ' => "d\u017E", 'Ǉ' => "LJ", 'ǈ' => "Lj", 'ǉ' => "lj",
        'Ǌ' => "NJ", 'ǋ' => "Nj", 'ǌ' => "nj", 'Ǳ' => "DZ", 'ǲ' => "Dz", 'ǳ' => "dz",
        'ﬀ' => "ff", 'ﬁ' => "fi", 'ﬂ' => "fl", 'ﬃ' => "ffi", 'ﬄ' => "ffl", 'ﬅ' => "st", 'ﬆ' => "st",
        _ => null,
    };

    // NFKC of U+FF5F..U+FFEF ('\0': unchanged; U+FFE3 maps to two characters). The runtime runs in invariant
    // globalization mode, where string.Normalize(FormKC) leaves these alone, so the map is spelled out.
    const string HalfwidthForms =
        "\u2985\u2986\u3002\u300C\u300D\u3001\u30FB\u30F2\u30A1\u30A3\u30A5\u30A7\u30A9\u30E3\u30E5\u30E7\u30C3\u30FC" +
        "\u30A2\u30A4\u30A6\u30A8\u30AA\u30AB\u30AD\u30AF\u30B1\u30B3\u30B5\u30B7\u30B9\u30BB\u30BD\u30BF\u30C1\u30C4" +
        "\u30C6\u30C8\u30CA\u30CB\u30CC\u30CD\u30CE\u30CF\u30D2\u30D5\u30D8\u30DB\u30DE\u30DF\u30E0\u30E1\u30E2\u30E4" +
        "\u30E6\u30E8\u30E9\u30EA\u30EB\u30EC\u30ED\u30EF\u30F3\u3099\u309A\u1160\u1100\u1101\u11AA\u1102\u11AC\u11AD" +
        "\u1103\u1104\u1105\u11B0\u11B1\u11B2\u11B3\u11B4\u11B5\u111A\u1106\u1107\u1108\u1121\u1109\u110A\u110B\u110C" +
        "\u110D\u110E\u110F\u1110\u1111\u1112\0\0\0\u1161\u1162\u1163\u1164\u1165\u1166\0\0\u1167\u1168\u1169\u116A" +
        "\u116B\u116C\0\0\u116D\u116E\u116F\u1170\u1171\u1172\0\0\u1173\u1174\u1175\0\0\0\u00A2\u00A3\u00AC\0\u00A6" +
        "\u00A5\u20A9\0\u2502\u2190\u2191\u2192\u2193\u25A0\u25CB\0";

    // ftfy chardata.WIDTH_MAP: U+3000 becomes a space, U+FF01..U+FFEF their NFKC form.
    static string? Width(char c)
    {
        if (c == '\u3000') return " ";
        if (c is >= '\uFF01' and <= '\uFF5E') return ((char)(c - 0xFEE0)).ToString();
        if (c == '\uFFE3') return " \u0304";
        if (c is >= '\uFF5F' and <= '\uFFEF' && HalfwidthForms[c - 0xFF5F] is var m && m != '\0') return m.ToString();
        return null;
    }

    // ftfy fix_c1_controls: a C1 control is a Windows-1252 byte decoded as Latin-1 (ftfy's "sloppy" codec keeps
    // the five bytes Windows-1252 leaves undefined).
    static char Windows1252(char c) => c switch
    {
        '\u0080' => '€', '\u0082' => '‚', '\u0083' => 'ƒ', '\u0084' => '„', '\u0085' => '…', '\u0086' => '†',
        '\u0087' => '‡', '\u0088' => 'ˆ', '\u0089' => '‰', '\u008A' => 'Š', '\u008B' => '‹', '\u008C' => 'Œ',
        '\u008E' => 'Ž', '\u0091' => '‘', '\u0092' => '’', '\u0093' => '“', '\u0094' => '”', '\u0095' => '•',
        '\u0096' => '–', '\u0097' => '—', '\u0098' => '˜', '\u0099' => '™', '\u009A' => 'š', '\u009B' => '›',
        '\u009C' => 'œ', '\u009E' => 'ž', '\u009F' => 'Ÿ',
        _ => c,
    };

    // ftfy chardata.CONTROL_CHARS (the BMP part): removed, except tab, line feed, form feed and carriage return.
    static bool IsRemovedControl(char c) =>
        c is (>= '\u0000' and <= '\u0008') or '\u000B' or (>= '\u000E' and <= '\u001F') or '\u007F'
            or (>= '\u206A' and <= '\u206F') or '\uFEFF' or (>= '\uFFF9' and <= '\uFFFC');

    [GeneratedRegex(@"&#?[0-9A-Za-z]{1,24};")]
    private static partial Regex HtmlEntity();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
