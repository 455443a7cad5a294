# Build EchoGen Desktop for Windows: onedir app + zip; optional code signing. NOT YET RUN on a Windows machine.
#
#   powershell -ExecutionPolicy Bypass -File packaging\build-windows.ps1
#
# Needs: Python 3.11 x64 and the project installed with the packaging extra:
#   py -3.11 -m venv .venv ; .venv\Scripts\pip install -e ".[packaging]"
# Signing (optional): set ECHOGEN_SIGN_PFX (path to a .pfx) and ECHOGEN_SIGN_PASSWORD; needs signtool.exe
# from the Windows SDK on PATH. Unsigned builds work but SmartScreen warns on first start.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
$Python = if ($env:PYTHON) { $env:PYTHON } else { ".venv\Scripts\python.exe" }
$started = Get-Date

$Version = & $Python -c "import echogen_desktop; print(echogen_desktop.__version__)"
& $Python packaging\tools\make_icons.py
& $Python packaging\tools\make_clip.py
& $Python -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build\pyinstaller packaging\echogen-desktop.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

if ($env:ECHOGEN_SIGN_PFX) {
    # Sign the executable (and, for a full job, every bundled .dll/.pyd we ship) with a timestamp.
    signtool sign /f $env:ECHOGEN_SIGN_PFX /p $env:ECHOGEN_SIGN_PASSWORD /fd SHA256 `
        /tr http://timestamp.digicert.com /td SHA256 dist\echogen-desktop\echogen-desktop.exe
    if ($LASTEXITCODE -ne 0) { throw "signing failed" }
}

# The frozen app must start and play its clip before anything is shipped.
& dist\echogen-desktop\echogen-desktop.exe --self-test | Write-Output
if ($LASTEXITCODE -ne 0) { throw "self-test of the frozen app failed" }

$Zip = "dist\echogen-desktop-$Version-windows-x64.zip"
if (Test-Path $Zip) { Remove-Item $Zip }
Compress-Archive -Path dist\echogen-desktop -DestinationPath $Zip
Write-Output "built $Zip in $([int]((Get-Date) - $started).TotalSeconds) s"
