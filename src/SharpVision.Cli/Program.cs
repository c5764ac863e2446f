using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Commands;

return new CommandLineApp(Commands.All).Run(args);
