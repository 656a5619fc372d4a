//! Deny-by-default policy for pickle globals: which imports are code-execution gadgets
//! (always reported), which belong to an allow-list profile of what legitimate
//! checkpoints use (PyTorch, numpy, joblib, scikit-learn, plain containers), and
//! everything else, which is reported as outside the allow-list.

/// How a resolved global is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Part of an allow-list profile; the profile's name.
    Allowed(&'static str),
    /// A known code-execution gadget; why.
    Dangerous(&'static str),
    /// Not on any allow-list.
    Unknown,
}

/// The allow-list profiles, for documentation and `Options`.
pub const PROFILES: &[(&str, &str)] = &[
    (
        "core",
        "builtin containers and scalars, collections, datetime, decimal, uuid, copyreg._reconstructor, _codecs.encode, argparse.Namespace, types.SimpleNamespace, pathlib path classes",
    ),
    (
        "torch",
        "torch._utils._rebuild_*, torch._tensor._rebuild_from_type*, torch.*Storage, torch.storage.{Untyped,Typed}Storage, torch.Size/device/dtypes/layouts/memory formats, torch.nn.parameter.Parameter",
    ),
    (
        "numpy",
        "numpy(._core|.core).multiarray._reconstruct/scalar, numpy.ndarray, numpy.dtype, numpy.dtypes.*DType, numeric _frombuffer, scalar types, numpy.random pickling constructors",
    ),
    (
        "joblib",
        "joblib.numpy_pickle.NumpyArrayWrapper, joblib.numpy_pickle_compat.NDArrayWrapper (also under sklearn.externals.joblib)",
    ),
    (
        "sklearn",
        "classes (CamelCase names) from sklearn.* modules, and scipy.sparse matrix classes, built by NEWOBJ/REDUCE + BUILD",
    ),
];

/// Module roots whose every attribute is a gadget (or leads to one).
const DANGEROUS_MODULES: &[(&str, &str)] = &[
    ("os", "runs commands / touches the filesystem"),
    ("posix", "os module internals (runs commands)"),
    ("nt", "os module internals (runs commands)"),
    ("subprocess", "runs commands"),
    ("_posixsubprocess", "runs commands"),
    ("commands", "runs commands"),
    ("popen2", "runs commands"),
    ("pty", "spawns processes"),
    ("importlib", "imports arbitrary modules"),
    ("imp", "imports arbitrary modules"),
    ("zipimport", "imports arbitrary code"),
    ("marshal", "loads code objects"),
    ("runpy", "runs Python code"),
    ("pip", "installs packages"),
    ("ensurepip", "installs packages"),
    ("setuptools", "builds and runs package code"),
    ("distutils", "builds and runs package code"),
    ("pkgutil", "resolves arbitrary names"),
    ("timeit", "evaluates code strings"),
    ("cProfile", "evaluates code strings"),
    ("profile", "evaluates code strings"),
    ("trace", "runs code"),
    ("pdb", "runs code"),
    ("bdb", "runs code"),
    ("code", "interactive interpreter"),
    ("codeop", "compiles code"),
    ("ctypes", "foreign function calls"),
    ("_ctypes", "foreign function calls"),
    ("multiprocessing", "spawns processes"),
    ("asyncio", "subprocess and event-loop internals"),
    ("socket", "network access"),
    ("_socket", "network access"),
    ("ssl", "network access"),
    ("http", "network access"),
    ("urllib", "network access"),
    ("urllib2", "network access"),
    ("requests", "network access"),
    ("httpx", "network access"),
    ("ftplib", "network access"),
    ("smtplib", "network access"),
    ("telnetlib", "network access"),
    ("webbrowser", "launches programs"),
    ("shutil", "file operations"),
    ("tempfile", "file operations"),
    ("io", "file access"),
    ("_io", "file access"),
    ("glob", "filesystem listing"),
    ("pickle", "nested unpickling"),
    ("_pickle", "nested unpickling"),
    ("cPickle", "nested unpickling"),
    ("dill", "code-object unpickling"),
    ("cloudpickle", "code-object unpickling"),
    ("shelve", "nested unpickling"),
    ("sys", "interpreter internals"),
    ("types", "builds code and function objects"),
    ("pydoc", "runs pagers (commands)"),
    ("platform", "runs commands"),
    ("signal", "process control"),
    ("_thread", "threads"),
    ("threading", "threads"),
    ("site", "interpreter configuration"),
    ("venv", "environment creation"),
    ("IPython", "runs code"),
    ("sympy", "evaluates expressions"),
];

/// Specific attributes of otherwise harmless modules.
const DANGEROUS_NAMES: &[(&str, &str, &str)] = &[
    ("builtins", "eval", "evaluates code"),
    ("builtins", "exec", "executes code"),
    ("builtins", "execfile", "executes code"),
    ("builtins", "compile", "compiles code"),
    ("builtins", "open", "file access"),
    ("builtins", "input", "reads stdin"),
    ("builtins", "getattr", "reaches arbitrary attributes"),
    ("builtins", "setattr", "modifies arbitrary attributes"),
    ("builtins", "delattr", "modifies arbitrary attributes"),
    ("builtins", "__import__", "imports arbitrary modules"),
    ("builtins", "globals", "interpreter internals"),
    ("builtins", "locals", "interpreter internals"),
    ("builtins", "vars", "interpreter internals"),
    ("builtins", "breakpoint", "runs a debugger"),
    ("builtins", "apply", "calls arbitrary callables"),
    ("builtins", "memoryview", "raw memory access"),
    ("builtins", "type", "builds classes"),
    ("functools", "partial", "wraps arbitrary callables"),
    ("functools", "reduce", "calls arbitrary callables"),
    ("operator", "attrgetter", "reaches arbitrary attributes"),
    ("operator", "methodcaller", "calls arbitrary methods"),
    ("operator", "getitem", "reaches arbitrary items"),
    (
        "copyreg",
        "_reconstructor_with_factory",
        "calls arbitrary callables",
    ),
    ("numpy.testing._private.utils", "runstring", "executes code"),
    ("numpy", "load", "nested unpickling (allow_pickle)"),
    (
        "numpy.lib.npyio",
        "load",
        "nested unpickling (allow_pickle)",
    ),
    ("numpy", "fromfile", "file access"),
    ("torch", "load", "nested unpickling"),
    ("torch.serialization", "load", "nested unpickling"),
    ("torch.storage", "_load_from_bytes", "nested unpickling"),
    ("torch.hub", "load", "downloads and runs code"),
    ("torch.hub", "load_state_dict_from_url", "downloads"),
    ("torch.jit", "load", "loads TorchScript"),
    ("torch._inductor.codecache", "compile_file", "compiles code"),
    ("joblib", "load", "nested unpickling"),
    ("pandas", "read_pickle", "nested unpickling"),
    ("pandas.io.pickle", "read_pickle", "nested unpickling"),
    ("linecache", "getline", "file access"),
    ("uuid", "_get_command_stdout", "runs commands"),
    ("jinja2", "Template", "template evaluation"),
    ("keras.models", "load_model", "nested model loading"),
];

/// Modules whose module object, reached as an attribute (`pathlib` + `os`), is a gadget.
const MODULE_OBJECTS: &[&str] = &[
    "os",
    "subprocess",
    "sys",
    "builtins",
    "importlib",
    "marshal",
    "runpy",
    "pty",
    "ctypes",
    "socket",
    "shutil",
    "pickle",
    "_pickle",
];

const PATH_CLASSES: &[&str] = &[
    "Path",
    "PosixPath",
    "WindowsPath",
    "PurePath",
    "PurePosixPath",
    "PureWindowsPath",
];

/// Python 2 names that Python 3's unpickler maps to their new homes.
fn compat_module(m: &str) -> &str {
    match m {
        "__builtin__" | "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "commands" => "subprocess",
        "UserDict" | "UserList" | "UserString" => "collections",
        "urllib2" => "urllib",
        "posix" | "nt" => "os",
        other => other,
    }
}

fn danger_of(module: &str, name: &str) -> Option<&'static str> {
    let module = compat_module(module);
    let root = module.split('.').next().unwrap_or(module);
    // Harmless members of otherwise dangerous modules, common in real checkpoints.
    if (module, name) == ("types", "SimpleNamespace") {
        return None;
    }
    // pathlib path classes are plain values; their methods (reached by a dotted name or
    // attribute walk) read and write files.
    if root == "pathlib" {
        return (module.contains('.') || !PATH_CLASSES.contains(&name)).then_some("file access");
    }
    if let Some((_, why)) = DANGEROUS_MODULES
        .iter()
        .find(|(m, _)| *m == root || *m == module)
    {
        return Some(why);
    }
    DANGEROUS_NAMES
        .iter()
        .find(|(m, n, _)| *m == module && *n == name)
        .map(|(_, _, why)| *why)
}

/// Modules that a dotted global must never reach by walking attributes: the walk
/// `torch` + `serialization.os.system` imports torch and ends in `os`. Every module of
/// `DANGEROUS_MODULES` counts, plus `builtins` (whose harmless-looking names, such as
/// `print`, are still reached through the interpreter's own module).
const WALK_EXTRA: &[&str] = &["builtins", "__builtin__", "posix", "nt"];

/// The dangerous module that a dotted `name` of `module` walks into, if any: a segment of
/// the name (not of the module) that names a module of `DANGEROUS_MODULES` or `WALK_EXTRA`,
/// with more attributes after it or as the last segment (the module object itself); the
/// last one when there are several.
/// `collections` + `os` and `numpy` + `testing._private.utils.os.system` reach `os`.
pub fn walk_target(module: &str, name: &str) -> Option<&'static str> {
    let first = module.split('.').next().unwrap_or(module);
    // The last such module: `numpy` + `distutils.exec_command.subprocess.check_output`
    // reaches subprocess (through numpy.distutils).
    name.split('.')
        .filter(|s| !s.is_empty())
        .rev()
        .find_map(|seg| {
            WALK_EXTRA
                .iter()
                .copied()
                .chain(DANGEROUS_MODULES.iter().map(|(m, _)| *m))
                .find(|m| *m == seg)
        })
        // A module's own dangerous name is judged by `danger_of`, not as a walk.
        .filter(|m| *m != first || name.contains('.'))
}

/// Judges `module` + `name`, where `name` may be dotted (protocol 4 attribute walk).
pub fn judge(module: &str, name: &str) -> Verdict {
    let full = format!("{module}.{name}");
    let segs: Vec<&str> = full.split('.').filter(|s| !s.is_empty()).collect();
    let Some((last, _)) = segs.split_last() else {
        return Verdict::Unknown;
    };
    // Every way of reading the dotted path as module.attr…, e.g. pathlib.os.system → os.system.
    for start in 0..segs.len() {
        let Some(rest) = segs.get(start..) else {
            continue;
        };
        if rest.len() >= 2 {
            let m = rest
                .get(..rest.len() - 1)
                .map(|r| r.join("."))
                .unwrap_or_default();
            if let Some(why) = danger_of(&m, last) {
                return Verdict::Dangerous(why);
            }
        }
        // A module object itself reached by attribute (pathlib.os).
        if rest.len() == 1 && start > 0 && MODULE_OBJECTS.contains(&compat_module(last)) {
            return Verdict::Dangerous("module object of a code-execution module");
        }
    }
    if walk_target(module, name).is_some() {
        return Verdict::Dangerous("attribute walk into a dangerous module");
    }
    if segs
        .iter()
        .skip(1)
        .any(|s| s.starts_with("__") && s.ends_with("__") && s.len() > 4)
        && !name.is_empty()
        && name.contains('.')
    {
        return Verdict::Dangerous("attribute walk through a dunder name");
    }
    if name.contains('.') {
        return Verdict::Unknown;
    }
    match allowed(compat_module(module), name) {
        Some(p) => Verdict::Allowed(p),
        None => Verdict::Unknown,
    }
}

fn is_camel(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

const TORCH_TOP: &[&str] = &[
    "Size",
    "device",
    "dtype",
    "float32",
    "float",
    "float64",
    "double",
    "float16",
    "half",
    "bfloat16",
    "int8",
    "uint8",
    "int16",
    "short",
    "int32",
    "int",
    "int64",
    "long",
    "bool",
    "complex64",
    "complex128",
    "cfloat",
    "cdouble",
    "float8_e4m3fn",
    "float8_e5m2",
    "uint16",
    "uint32",
    "uint64",
    "strided",
    "sparse_coo",
    "sparse_csr",
    "sparse_csc",
    "sparse_bsr",
    "sparse_bsc",
    "_mkldnn",
    "contiguous_format",
    "channels_last",
    "channels_last_3d",
    "preserve_format",
    "per_tensor_affine",
    "per_channel_affine",
    "per_tensor_symmetric",
    "per_channel_symmetric",
    "quint8",
    "qint8",
    "qint32",
    "quint4x2",
];

const NUMPY_SCALARS: &[&str] = &[
    "ndarray",
    "dtype",
    "float16",
    "float32",
    "float64",
    "float128",
    "longdouble",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool_",
    "complex64",
    "complex128",
    "str_",
    "bytes_",
    "void",
    "datetime64",
    "timedelta64",
    "intc",
    "uintc",
    "longlong",
    "ulonglong",
];

fn allowed(module: &str, name: &str) -> Option<&'static str> {
    let core = matches!(
        (module, name),
        (
            "builtins",
            "set"
                | "frozenset"
                | "dict"
                | "list"
                | "tuple"
                | "bytearray"
                | "bytes"
                | "slice"
                | "range"
                | "complex"
                | "int"
                | "float"
                | "str"
                | "bool"
                | "object"
                | "NoneType"
                | "Ellipsis"
                | "NotImplemented",
        ) | ("copyreg", "_reconstructor" | "__newobj__" | "__newobj_ex__")
            | (
                "collections",
                "OrderedDict" | "defaultdict" | "deque" | "Counter"
            )
            | ("_codecs" | "codecs", "encode")
            | (
                "datetime",
                "datetime" | "date" | "time" | "timedelta" | "timezone"
            )
            | ("decimal", "Decimal")
            | ("argparse", "Namespace")
            | (
                "pathlib",
                "Path"
                    | "PosixPath"
                    | "WindowsPath"
                    | "PurePath"
                    | "PurePosixPath"
                    | "PureWindowsPath"
            )
            | ("types", "SimpleNamespace")
            | ("fractions", "Fraction")
            | ("uuid", "UUID")
    );
    if core {
        return Some("core");
    }
    let torch = match module {
        "torch" => name.ends_with("Storage") || TORCH_TOP.contains(&name),
        "torch._utils" => name.starts_with("_rebuild_"),
        "torch._tensor" => name.starts_with("_rebuild_from_type"),
        "torch.storage" => matches!(name, "UntypedStorage" | "TypedStorage" | "_StorageBase"),
        "torch.nn.parameter" => matches!(name, "Parameter" | "UninitializedParameter" | "Buffer"),
        "torch.serialization" => name == "_get_layout",
        "torch.cuda" => name.ends_with("Storage"),
        _ => false,
    };
    if torch {
        return Some("torch");
    }
    let numpy = match module {
        "numpy.core.multiarray" | "numpy._core.multiarray" => {
            matches!(name, "_reconstruct" | "scalar")
        }
        "numpy.core.numeric" | "numpy._core.numeric" => name == "_frombuffer",
        "numpy" => NUMPY_SCALARS.contains(&name),
        "numpy.dtypes" => is_camel(name) && name.ends_with("DType"),
        "numpy.random._pickle" => {
            matches!(
                name,
                "__randomstate_ctor" | "__generator_ctor" | "__bit_generator_ctor"
            )
        }
        "numpy.ma.core" => name == "_mareconstruct",
        _ => false,
    };
    if numpy {
        return Some("numpy");
    }
    let joblib = matches!(
        (module, name),
        (
            "joblib.numpy_pickle" | "sklearn.externals.joblib.numpy_pickle",
            "NumpyArrayWrapper"
        ) | (
            "joblib.numpy_pickle_compat" | "sklearn.externals.joblib.numpy_pickle_compat",
            "NDArrayWrapper"
        )
    );
    if joblib {
        return Some("joblib");
    }
    if (module == "sklearn" || module.starts_with("sklearn.")) && is_camel(name) {
        return Some("sklearn");
    }
    if module.starts_with("scipy.sparse")
        && matches!(
            name,
            "csr_matrix" | "csc_matrix" | "coo_matrix" | "csr_array" | "csc_array" | "coo_array"
        )
    {
        return Some("sklearn");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let cases: &[(&str, &str, &str)] = &[
            ("posix", "system", "D"),
            ("os", "system", "D"),
            ("pathlib", "os.system", "D"),
            ("torch", "os", "D"),
            ("__builtin__", "eval", "D"),
            ("builtins", "getattr", "D"),
            ("builtins", "dict", "A"),
            ("torch._utils", "_rebuild_tensor_v2", "A"),
            ("torch", "FloatStorage", "A"),
            ("collections", "OrderedDict", "A"),
            ("sklearn.linear_model._base", "LinearRegression", "A"),
            ("sklearn.utils", "some_function", "U"),
            ("__main__", "Foo", "U"),
            ("foo", "Bar.__globals__.x", "D"),
            ("numpy.testing._private.utils", "runstring", "D"),
            ("subprocess", "Popen", "D"),
            ("pathlib", "PosixPath", "A"),
            ("pathlib", "Path.write_text", "D"),
            ("pathlib", "os.system", "D"),
            ("argparse", "Namespace", "A"),
            ("types", "SimpleNamespace", "A"),
            ("types", "CodeType", "D"),
        ];
        for (m, n, want) in cases {
            let got = match judge(m, n) {
                Verdict::Allowed(_) => "A",
                Verdict::Dangerous(_) => "D",
                Verdict::Unknown => "U",
            };
            assert_eq!(got, *want, "{m}.{n}");
        }
    }
}
