using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace SharpVision.Cli.CommandLine;

/// <summary>
/// Typed options and arguments for the commands. Values parse with the invariant culture, and a bad one is reported as the
/// project words it (<c>--batch must be between 1 and 4096; got 0</c>), as one <c>error:</c> line with exit code 2.
/// A metavar names the value in --help (DIR, N, FILE).
/// </summary>
public static class Opt
{
    /// <summary>A text option; <paramref name="fallback"/> when it is not given (null: no value).</summary>
    public static Option<string> Text(string name, string metavar, string description, string? fallback = null) =>
        Make<string>(name, metavar, description, fallback, t => t);

    /// <summary>A text option that must be given.</summary>
    public static Option<string> Required(string name, string metavar, string description)
    {
        var option = Text(name, metavar, description);
        option.Required = true;
        return option;
    }

    /// <summary>An option that may be given several times (<c>--point 1,2 --point 3,4</c>), one value each time.</summary>
    public static Option<string[]> Repeated(string name, string metavar, string description) =>
        new(name) { Description = description, HelpName = metavar, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false, DefaultValueFactory = _ => [] };

    /// <summary>A switch without a value.</summary>
    public static Option<bool> Flag(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>]; <paramref name="fallback"/> when not given.</summary>
    public static Option<int> Int(string name, string description, int fallback, int min = int.MinValue, int max = int.MaxValue, string metavar = "N") =>
        Make(name, metavar, description, fallback, text => ParseInt(name, text, min, max));

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>], null when not given (the command
    /// chooses, e.g. from the model it loaded).</summary>
    public static Option<int?> OptionalInt(string name, string description, int min = int.MinValue, int max = int.MaxValue, string metavar = "N") =>
        Make<int?>(name, metavar, description, null, text => ParseInt(name, text, min, max));

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>] (never NaN).</summary>
    public static Option<double> Double(string name, string description, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity, string metavar = "X") =>
        Make<double>(name, metavar, description, fallback, text =>
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || double.IsNaN(v)) throw new UsageException($"{name} must be a number; got '{text}'");
            if (v < min || v > max) throw new UsageException($"{name} must be between {min} and {max}; got {v}");
            return v;
        });

    /// <summary>A comma-separated list of positive integers (<c>--batch-sizes 2,4,16</c>).</summary>
    public static Option<int[]> PositiveInts(string name, string description, int[] fallback, string metavar = "LIST") =>
        Make<int[]>(name, metavar, description, fallback, text =>
        {
            var values = IntList(text, name);
            if (values.Length == 0 || values.Any(v => v <= 0)) throw new UsageException($"{name} must list positive integers; got '{text}'");
            return values;
        });

    /// <summary>A positional argument, shown in --help as <paramref name="name"/>.</summary>
    public static Argument<string> Positional(string name, string description) => new(name) { Description = description, HelpName = name };

    /// <summary>Adds the values --help and [suggest] completions offer for <paramref name="option"/> (not a restriction: the
    /// command still checks the value and says what is allowed).</summary>
    public static Option<T> Suggest<T>(this Option<T> option, params IEnumerable<string> values)
    {
        option.CompletionSources.Add([.. values]);
        return option;
    }

    /// <summary>Parses "1,2,-3" into ints ("" is empty); names the argument on failure.</summary>
    /// <exception cref="UsageException">A part that is not an integer.</exception>
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

    static int ParseInt(string name, string text, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) throw new UsageException($"{name} must be an integer; got '{text}'");
        return v < min || v > max ? throw new UsageException($"{name} must be between {min} and {max}; got {v}") : v;
    }

    static Option<T> Make<T>(string name, string metavar, string description, object? fallback, Func<string, T> parse)
    {
        // One value after each occurrence, and an option given twice takes the last value (callers add defaults first and
        // overrides after them): OneOrMore values, but never more than one per occurrence (AllowMultipleArgumentsPerToken).
        var option = new Option<T>(name) { Description = description, HelpName = metavar, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
        if (fallback is T value) option.DefaultValueFactory = _ => value;
        option.CustomParser = result =>
        {
            try { return parse(result.Tokens[^1].Value); }
            catch (UsageException e) { result.AddError(e.Message); return default!; }
        };
        return option;
    }
}

/// <summary>What a command reads from its <see cref="ParseResult"/> besides the values.</summary>
public static class ParseResultExtensions
{
    extension(ParseResult args)
    {
        /// <summary>Where the command writes its results: the stdout given to <see cref="CommandLineApp.Run"/> (tests capture it).</summary>
        public TextWriter Out => args.InvocationConfiguration.Output;

        /// <summary>Where the command writes warnings: the stderr given to <see cref="CommandLineApp.Run"/>.</summary>
        public TextWriter Error => args.InvocationConfiguration.Error;

        /// <summary>Whether <paramref name="option"/> was on the command line (not just its default).</summary>
        public bool Given(Option option) => args.GetResult(option) is { Implicit: false };

        /// <summary>The value of an option whose default or range is known only at run time (a scheduler's number of
        /// timesteps, the number of training images): <paramref name="fallback"/> when it is not given.</summary>
        /// <exception cref="UsageException">A value outside [<paramref name="min"/>, <paramref name="max"/>].</exception>
        public int GetValue(Option<int?> option, int fallback, int min, int max) => args.GetValue(option) switch
        {
            null => fallback,
            int value when value < min || value > max => throw new UsageException($"{option.Name} must be between {min} and {max}; got {value}"),
            int value => value,
        };
    }
}
