using System.Globalization;

namespace SharpVision.Cli.CommandLine;

/// <summary>
/// Parsed arguments: positionals in order, <c>--name value</c> options and <c>--flag</c> switches.
/// Every accessor turns a bad value into a <see cref="UsageException"/> that names the option.
/// </summary>
public sealed class Arguments
{
    readonly Dictionary<string, List<string>> options = new(StringComparer.Ordinal);
    readonly HashSet<string> flags = new(StringComparer.Ordinal);
    readonly HashSet<string> used = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Positionals { get; }

    /// <summary>Where the command writes its results: the stdout given to <see cref="CommandLineApp.Run"/> (tests capture it).</summary>
    public TextWriter Out { get; }

    /// <summary>Where the command writes warnings: the stderr given to <see cref="CommandLineApp.Run"/>.</summary>
    public TextWriter Error { get; }

    /// <param name="args">The words after the command name.</param>
    /// <param name="flagNames">Options that take no value (e.g. "multimask", "resume").</param>
    /// <param name="stdout">Result stream; <see cref="Console.Out"/> when null.</param>
    /// <param name="stderr">Warning stream; <see cref="Console.Error"/> when null.</param>
    public Arguments(IReadOnlyList<string> args, IEnumerable<string>? flagNames = null, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        Out = stdout ?? Console.Out;
        Error = stderr ?? Console.Error;
        var flagSet = new HashSet<string>(flagNames ?? [], StringComparer.Ordinal) { "help" };
        var positionals = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                var name = a[2..];
                string? inline = null;
                int eq = name.IndexOf('=');
                if (eq >= 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
                if (flagSet.Contains(name) && inline is null) { flags.Add(name); continue; }
                var value = inline ?? (i + 1 < args.Count ? args[++i] : throw new UsageException($"--{name} needs a value"));
                if (!options.TryGetValue(name, out var list)) options[name] = list = [];
                list.Add(value);
            }
            else positionals.Add(a);
        }
        Positionals = positionals;
    }

    public bool Help => flags.Contains("help");

    public bool Flag(string name) { used.Add(name); return flags.Contains(name); }

    public string? Option(string name)
    {
        used.Add(name);
        return options.TryGetValue(name, out var v) ? v[^1] : null;
    }

    public IReadOnlyList<string> All(string name)
    {
        used.Add(name);
        return options.TryGetValue(name, out var v) ? v : [];
    }

    public string Required(string name) => Option(name) ?? throw new UsageException($"--{name} is required");

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var s = Option(name);
        if (s is null) return fallback;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new UsageException($"--{name} must be an integer; got '{s}'");
        if (v < min || v > max) throw new UsageException($"--{name} must be between {min} and {max}; got {v}");
        return v;
    }

    public double Double(string name, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        var s = Option(name);
        if (s is null) return fallback;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || double.IsNaN(v))
            throw new UsageException($"--{name} must be a number; got '{s}'");
        if (v < min || v > max) throw new UsageException($"--{name} must be between {min} and {max}; got {v}");
        return v;
    }

    public string Positional(int index, string what) =>
        index < Positionals.Count ? Positionals[index] : throw new UsageException($"missing argument: {what}");

    /// <summary>Throws for options the command never asked about (catches typos such as --step for --steps).</summary>
    public void RejectUnknown()
    {
        var unknown = options.Keys.Concat(flags).Where(k => k != "help" && !used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}");
    }

    /// <summary>Parses "1,2,-3" into ints ("" is empty); names the argument on failure.</summary>
    public static int[] IntList(string text, string what)
    {
        if (text.Length == 0) return [];
        var parts = text.Split(',');
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out result[i]))
                throw new UsageException($"{what}: '{parts[i]}' is not an integer (expected comma-separated integers such as 1,2,3)");
        }
        return result;
    }
}
