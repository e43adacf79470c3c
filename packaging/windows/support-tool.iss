; Inno Setup 6 script: installs dist\support-tool\ (built by scripts\build-app's steps on
; Windows, see docs/packaging.md) per user, without administrator rights.
;   iscc /DAppVersion=0.1.0 packaging\windows\support-tool.iss
; Output: dist\support-tool-<version>-setup.exe. Sign it and the two executables inside
; before release (signtool; docs/packaging.md, "Signing").

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6B7E2C1A-3F0D-4C55-9B7E-5D1A2C9E4F10}
AppName=support-tool
AppVersion={#AppVersion}
AppPublisher=support-tool maintainers
; Per-user install: support desks rarely have admin rights, and %LOCALAPPDATA% is where
; support-tool keeps its profiles and history anyway.
PrivilegesRequired=lowest
DefaultDirName={localappdata}\Programs\support-tool
DefaultGroupName=support-tool
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=support-tool-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
UninstallDisplayIcon={app}\support-tool-gui.exe
; Add the folder to the user's PATH so that `support-tool` works in a new terminal.
ChangesEnvironment=yes

[Files]
; The whole one-folder app. No support-tool-home folder: installed copies keep their data
; in the user's folders; only the portable zip carries one.
Source: "..\..\dist\support-tool\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{group}\support-tool"; Filename: "{app}\support-tool-gui.exe"
Name: "{group}\support-tool (demo)"; Filename: "{app}\support-tool-gui.exe"; Parameters: "--demo"

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; \
    ValueData: "{olddata};{app}"; Check: NeedsAddPath(ExpandConstant('{app}'))

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Path) then
    Path := '';
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
