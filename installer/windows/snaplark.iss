; Inno Setup 6 script: per-user install of the one-file Windows build (dist\snaplark.exe), no admin rights.
; Build on Windows after build\build_binary.sh (or `pyinstaller build\tray.spec --distpath dist`):
;   iscc /DAppVersion=0.1.0 installer\windows\snaplark.iss      -> dist\snaplark-setup-0.1.0.exe
; AppVersion must be tray/__init__.py's __version__ (build_binary.sh prints it); there is no other version source.
; Start at logon = HKCU Run value "Snaplark", the same value `snaplark autostart enable|disable` manages
; (tray_platform/windows/autostart.py; tests/unit/packaging checks both name the same key and value).

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z snaplark.iss (from tray/__init__.py)
#endif
#define RepoRoot "..\.."

[Setup]
AppId={{6B8E3C52-5B7A-4C0E-9D7C-5A4F2E1B8C31}
AppName=Snaplark
AppVersion={#AppVersion}
AppPublisher=Snaplark Tray contributors
DefaultDirName={localappdata}\Programs\Snaplark
DefaultGroupName=Snaplark
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
OutputDir={#RepoRoot}\dist
OutputBaseFilename=snaplark-setup-{#AppVersion}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\snaplark.exe
CloseApplications=yes
#ifexist "..\..\icons\snaplark.ico"
SetupIconFile={#RepoRoot}\icons\snaplark.ico
#endif

[Tasks]
Name: "startatlogin"; Description: "Start Snaplark when I sign in"; GroupDescription: "Start-up:"
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#RepoRoot}\dist\snaplark.exe"; DestDir: "{app}"; Flags: ignoreversion
Source: "{#RepoRoot}\installer\windows\autostart.ps1"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{autoprograms}\Snaplark"; Filename: "{app}\snaplark.exe"
Name: "{autodesktop}\Snaplark"; Filename: "{app}\snaplark.exe"; Tasks: desktopicon

[Registry]
; Explorer runs this at logon. uninsdeletevalue: the uninstaller removes it even if the app changed it.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "Snaplark"; ValueData: """{app}\snaplark.exe"""; Flags: uninsdeletevalue; Tasks: startatlogin
; A "disabled" mark that Task Manager may have left from an earlier install.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"; ValueType: none; ValueName: "Snaplark"; Flags: deletevalue uninsdeletevalue

[Run]
Filename: "{app}\snaplark.exe"; Description: "{cm:LaunchProgram,Snaplark}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; `snaplark autostart enable` may have been run from another location: drop the value whatever it holds.
Filename: "{app}\snaplark.exe"; Parameters: "autostart disable"; Flags: runhidden; RunOnceId: "SnaplarkAutostartOff"
