using SharpVision.Nn;
using GroupNorm = SharpVision.Nn.Normalization.GroupNorm;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// The pre-activation residual block of DDPM-style UNets and VAEs:
/// <c>out = (shortcut(x) + conv2(drop(act(norm2'(conv1(act(norm1(x)))))))) / output_scale_factor</c>, where the
/// time embedding enters at norm2 (added before it, or as scale/shift after it). Optional 2× up/down resampling of
/// both paths after the first activation. Follows diffusers models/resnet.py <c>ResnetBlock2D</c> (no FIR/SDE-VP kernels).
/// </summary>
public sealed class ResnetBlock2D : nn.Module<Tensor, Tensor?, Tensor>
{
    public readonly GroupNorm norm1;
    public readonly Conv2d conv1;
    /// <summary>Projects the time embedding to C_out (default) or 2·C_out (scale_shift); null without a time embedding.</summary>
    public readonly Linear? time_emb_proj;
    public readonly GroupNorm norm2;
    public readonly Dropout dropout;
    public readonly Conv2d conv2;
    public readonly Upsample2D? upsample;
    public readonly Downsample2D? downsample;
    /// <summary>1×1 convolution on the residual path when the channel count changes (or when forced).</summary>
    public readonly Conv2d? conv_shortcut;

    readonly long in_channels;
    readonly ActivationFunction nonlinearity;
    readonly ResnetTimeScaleShift time_embedding_norm;
    readonly bool skip_time_act;
    readonly double output_scale_factor;

    /// <summary>Input channels C_in.</summary>
    public long InChannels => in_channels;

    /// <param name="inChannels">C_in.</param>
    /// <param name="outChannels">C_out (default C_in).</param>
    /// <param name="tembChannels">Width of the time embedding; null for blocks without one (VAE).</param>
    /// <param name="groups">Groups of norm1 (and norm2 unless <paramref name="groupsOut"/>).</param>
    /// <param name="eps">GroupNorm epsilon (diffusers' default 1e-6; UNet2DModel passes norm_eps).</param>
    /// <param name="skipTimeAct">Project the embedding without applying the activation first.</param>
    /// <param name="useInShortcut">Force (or suppress) the 1×1 shortcut; by default it exists when C_in ≠ C_out.</param>
    /// <param name="up">Nearest-neighbour 2× upsampling of both paths (no convolution).</param>
    /// <param name="down">2×2 average-pool downsampling of both paths.</param>
    /// <exception cref="ArgumentException">Both up and down, or groups that do not divide the channels.</exception>
    public ResnetBlock2D(long inChannels, long? outChannels = null, long? tembChannels = 512, double dropout = 0.0,
        long groups = 32, long? groupsOut = null, double eps = 1e-6, ActivationFunction nonLinearity = ActivationFunction.Silu,
        bool skipTimeAct = false, ResnetTimeScaleShift timeEmbeddingNorm = ResnetTimeScaleShift.Default,
        double outputScaleFactor = 1.0, bool? useInShortcut = null, bool up = false, bool down = false,
        bool convShortcutBias = true, long? conv2dOutChannels = null) : base(nameof(ResnetBlock2D))
    {
        if (up && down) throw new ArgumentException("a resnet block cannot both upsample and downsample", nameof(down));
        long outCh = outChannels ?? inChannels;
        long convOut = conv2dOutChannels ?? outCh;
        in_channels = inChannels;
        nonlinearity = nonLinearity;
        time_embedding_norm = timeEmbeddingNorm;
        skip_time_act = skipTimeAct;
        output_scale_factor = outputScaleFactor;

        norm1 = new GroupNorm((int)groups, (int)inChannels, eps);
        conv1 = nn.Conv2d(inChannels, outCh, 3, stride: 1, padding: 1);
        if (tembChannels is long temb)
            time_emb_proj = nn.Linear(temb, timeEmbeddingNorm == ResnetTimeScaleShift.ScaleShift ? 2 * outCh : outCh);
        norm2 = new GroupNorm((int)(groupsOut ?? groups), (int)outCh, eps);
        this.dropout = nn.Dropout(dropout);
        conv2 = nn.Conv2d(outCh, convOut, 3, stride: 1, padding: 1);
        if (up) upsample = new Upsample2D(inChannels, useConv: false);
        else if (down) downsample = new Downsample2D(inChannels, useConv: false);
        if (useInShortcut ?? inChannels != convOut)
            conv_shortcut = nn.Conv2d(inChannels, convOut, 1, stride: 1, padding: 0L, bias: convShortcutBias);
        RegisterComponents();
    }

    /// <param name="inputTensor">(B, C_in, H, W).</param>
    /// <param name="temb">(B, temb_channels) time embedding, or null (required for scale_shift when the block has a projection).</param>
    /// <returns>(B, C_out, H', W') with H' = 2H (up), H/2 (down) or H.</returns>
    /// <exception cref="ArgumentException">Wrong channel count, or a scale_shift block given no embedding.</exception>
    public override Tensor forward(Tensor inputTensor, Tensor? temb)
    {
        Shapes.RequireDim(inputTensor, 1, in_channels, $"(B, {in_channels}, H, W)", nameof(inputTensor));
        using var scope = torch.NewDisposeScope();
        var residual = inputTensor;
        var h = Activations.Apply(nonlinearity, norm1.call(inputTensor));
        if (upsample is not null)
        {
            residual = upsample.call(residual);
            h = upsample.call(h);
        }
        else if (downsample is not null)
        {
            residual = downsample.call(residual);
            h = downsample.call(h);
        }
        h = conv1.call(h);

        Tensor? t = null;
        if (time_emb_proj is not null && temb is not null)
        {
            var te = skip_time_act ? temb : Activations.Apply(nonlinearity, temb);
            t = time_emb_proj.call(te).unsqueeze(-1).unsqueeze(-1); // (B, C_out or 2 C_out, 1, 1)
        }
        if (time_embedding_norm == ResnetTimeScaleShift.ScaleShift)
        {
            if (t is null)
                throw new ArgumentException("a scale_shift resnet block needs a time embedding (temb was null)", nameof(temb));
            var parts = t.chunk(2, dim: 1); // scale, shift: (B, C_out, 1, 1) each
            h = norm2.call(h);
            h = h * (1 + parts[0]) + parts[1];
        }
        else
        {
            if (t is not null) h = h + t;
            h = norm2.call(h);
        }
        h = Activations.Apply(nonlinearity, h);
        h = dropout.call(h);
        h = conv2.call(h);
        if (conv_shortcut is not null) residual = conv_shortcut.call(residual);
        var output = residual + h;
        if (output_scale_factor != 1.0) output = output / output_scale_factor;
        return output.MoveToOuterDisposeScope();
    }
}
