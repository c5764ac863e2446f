// MSBuild task (compiled by RoslynCodeTaskFactory, see TorchSharpGlibcxx.targets).
//
// TorchSharp 0.107's libLibTorchSharp.so was linked against GCC 13's libstdc++ and so records a
// version requirement on GLIBCXX_3.4.32 for one symbol, _ZSt21ios_base_library_initv, which
// <iostream> references without calling. Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so the
// dynamic loader refuses the library and TorchSharp reports that it cannot find libtorch.
// This task rewrites that one .gnu.version_r entry (hash and name) to GLIBCXX_3.4.30 in the
// build output's copy of the library.
// RoslynCodeTaskFactory compiles this against netstandard2.0: no spans, ranges or nullable annotations. It does nothing when the system libstdc++ already provides
// GLIBCXX_3.4.32, when the library has no such requirement, or when the copy is already patched.
using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class PatchLibTorchSharpGlibcxx : Task
{
    const string Wanted = "GLIBCXX_3.4.32";
    const string Available = "GLIBCXX_3.4.30";

    /// <summary>Every libLibTorchSharp.so under the output directory.</summary>
    [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return true;
        var system = FindSystemLibStdCxx();
        if (system is null)
        {
            Log.LogMessage(MessageImportance.Low, "No system libstdc++.so.6 found; not patching libLibTorchSharp.so.");
            return true;
        }
        if (FileContains(system, Wanted))
        {
            Log.LogMessage(MessageImportance.Low, $"{system} provides {Wanted}; nothing to patch.");
            return true;
        }
        foreach (var item in Libraries)
        {
            try
            {
                var changed = Patch(item.ItemSpec);
                if (changed) Log.LogMessage(MessageImportance.High, $"Patched {Wanted} -> {Available} in {item.ItemSpec}");
            }
            catch (Exception e)
            {
                Log.LogError($"Could not patch {item.ItemSpec}: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    static string FindSystemLibStdCxx()
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };
        return candidates.FirstOrDefault(File.Exists);
    }

    static bool FileContains(string path, string text)
    {
        var bytes = File.ReadAllBytes(path);
        var needle = Encoding.ASCII.GetBytes(text);
        return IndexOf(bytes, needle, 0, bytes.Length) >= 0;
    }

    /// <summary>Rewrites the Vernaux entry naming <see cref="Wanted"/>; returns whether the file changed.</summary>
    static bool Patch(string path)
    {
        var elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7F || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("only 64-bit little-endian ELF is handled");

        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        int shstrndx = BitConverter.ToUInt16(elf, 0x3E);

        long SectionOffset(int i) => BitConverter.ToInt64(elf, (int)(shoff + i * shentsize + 0x18));
        long SectionSize(int i) => BitConverter.ToInt64(elf, (int)(shoff + i * shentsize + 0x20));
        int SectionLink(int i) => BitConverter.ToInt32(elf, (int)(shoff + i * shentsize + 0x28));
        int SectionName(int i) => BitConverter.ToInt32(elf, (int)(shoff + i * shentsize));
        string CString(long at)
        {
            int end = (int)at;
            while (elf[end] != 0) end++;
            return Encoding.ASCII.GetString(elf, (int)at, end - (int)at);
        }

        long names = SectionOffset(shstrndx);
        int verneed = Enumerable.Range(0, shnum).Where(i => CString(names + SectionName(i)) == ".gnu.version_r").DefaultIfEmpty(-1).First();
        if (verneed < 0) return false;
        long dynstr = SectionOffset(SectionLink(verneed));
        long dynstrSize = SectionSize(SectionLink(verneed));

        bool changed = false;
        long need = SectionOffset(verneed);
        while (true)
        {
            int count = BitConverter.ToUInt16(elf, (int)need + 2);
            long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
            for (int k = 0; k < count; k++)
            {
                long nameOffset = BitConverter.ToUInt32(elf, (int)aux + 8);
                if (CString(dynstr + nameOffset) == Wanted)
                {
                    long target = FindString(elf, dynstr, dynstrSize, Available);
                    if (target < 0)
                    {
                        // Same length: rename the string in place.
                        Encoding.ASCII.GetBytes(Available).CopyTo(elf, (int)(dynstr + nameOffset));
                        target = nameOffset;
                    }
                    BitConverter.GetBytes(ElfHash(Available)).CopyTo(elf, (int)aux);
                    BitConverter.GetBytes((uint)target).CopyTo(elf, (int)aux + 8);
                    changed = true;
                }
                uint nextAux = BitConverter.ToUInt32(elf, (int)aux + 12);
                if (nextAux == 0) break;
                aux += nextAux;
            }
            uint next = BitConverter.ToUInt32(elf, (int)need + 12);
            if (next == 0) break;
            need += next;
        }
        if (!changed) return false;

        var temporary = path + ".patching";
        File.WriteAllBytes(temporary, elf);
        File.Copy(temporary, path, true);
        File.Delete(temporary);
        return true;
    }

    /// <summary>Offset of <paramref name="text"/> as a whole NUL-terminated string inside .dynstr, or -1.</summary>
    static long FindString(byte[] elf, long start, long size, string text)
    {
        var needle = Encoding.ASCII.GetBytes(text + "\0");
        for (int from = (int)start; ;)
        {
            int at = IndexOf(elf, needle, from, (int)(start + size));
            if (at < 0) return -1;
            if (at == start || elf[at - 1] == 0) return at - start;
            from = at + 1;
        }
    }

    static int IndexOf(byte[] haystack, byte[] needle, int from, int end)
    {
        for (int i = from; i + needle.Length <= end; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    /// <summary>The System V ELF hash (what vna_hash holds).</summary>
    static uint ElfHash(string name)
    {
        uint h = 0;
        foreach (char c in name)
        {
            h = (h << 4) + c;
            uint g = h & 0xF0000000;
            if (g != 0) h ^= g >> 24;
            h &= ~g;
        }
        return h;
    }
}
