// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Collection721
/// @notice A creator's ERC-721 collection with owner mints and timed public drops. Token ids are
/// sequential from 1 so the simulator can predict them without reading logs.
contract Collection721 is ERC721, ERC2981, Ownable {
    /// @dev Public-drop state packed in one slot: a public mint reads it with a single SLOAD.
    struct Drop {
        uint128 price;
        uint64 maxPerWallet; // 0 = no per-wallet cap
        uint32 id; // bumped on every openDrop so per-wallet counts restart per drop
        bool open;
    }

    /// @notice Receives public-mint proceeds directly: no withdraw step, so no ETH ever sits here.
    address public immutable creator;
    /// @notice 0 = uncapped.
    uint256 public immutable maxSupply;
    uint256 public totalMinted;
    Drop private _drop;
    mapping(uint256 dropId => mapping(address minter => uint256)) public mintedInDrop;

    event DropOpened(uint256 indexed dropId, uint256 price, uint256 maxPerWallet);
    event DropClosed(uint256 indexed dropId);

    error ZeroQuantity();
    error MaxSupplyExceeded(uint256 requested, uint256 remaining);
    error DropNotOpen();
    error MaxPerWalletExceeded(uint256 requested, uint256 alreadyMinted, uint256 maxPerWallet);
    error IncorrectPayment(uint256 sent, uint256 required);
    error ValueTooLarge();
    error EthTransferFailed();

    constructor(string memory name_, string memory symbol_, address creator_, uint96 royaltyBps, uint256 maxSupply_)
        ERC721(name_, symbol_)
        Ownable(creator_)
    {
        creator = creator_;
        maxSupply = maxSupply_;
        _setDefaultRoyalty(creator_, royaltyBps);
    }

    function ownerMint(address to, uint256 quantity) external onlyOwner {
        _mintSequential(to, quantity);
    }

    function openDrop(uint256 price, uint256 maxPerWallet) external onlyOwner {
        if (price > type(uint128).max || maxPerWallet > type(uint64).max) revert ValueTooLarge();
        uint32 id = _drop.id + 1;
        _drop = Drop({price: uint128(price), maxPerWallet: uint64(maxPerWallet), id: id, open: true});
        emit DropOpened(id, price, maxPerWallet);
    }

    function closeDrop() external onlyOwner {
        _drop.open = false;
        emit DropClosed(_drop.id);
    }

    function mint(uint256 quantity) external payable {
        Drop memory d = _drop;
        if (!d.open) revert DropNotOpen();
        uint256 required = uint256(d.price) * quantity;
        if (msg.value != required) revert IncorrectPayment(msg.value, required);
        if (d.maxPerWallet != 0) {
            uint256 already = mintedInDrop[d.id][msg.sender];
            if (already + quantity > d.maxPerWallet) {
                revert MaxPerWalletExceeded(quantity, already, d.maxPerWallet);
            }
            mintedInDrop[d.id][msg.sender] = already + quantity;
        }
        _mintSequential(msg.sender, quantity);
        // Paid after all state changes; a reverting creator only blocks its own drop.
        if (msg.value != 0) {
            (bool ok,) = creator.call{value: msg.value}("");
            if (!ok) revert EthTransferFailed();
        }
    }

    function dropOpen() external view returns (bool) {
        return _drop.open;
    }

    function mintPrice() external view returns (uint256) {
        return _drop.price;
    }

    function dropMaxPerWallet() external view returns (uint256) {
        return _drop.maxPerWallet;
    }

    function currentDropId() external view returns (uint256) {
        return _drop.id;
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, ERC2981) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    /// @dev Plain _mint (no receiver callback): the simulator mints to EOAs, and a per-token loop keeps
    /// one standard Transfer(0x0, to, id) per token, which is what the extractor indexes.
    function _mintSequential(address to, uint256 quantity) private {
        if (quantity == 0) revert ZeroQuantity();
        uint256 first = totalMinted;
        if (maxSupply != 0 && first + quantity > maxSupply) {
            revert MaxSupplyExceeded(quantity, maxSupply - first);
        }
        totalMinted = first + quantity;
        for (uint256 i = 1; i <= quantity; ++i) {
            _mint(to, first + i);
        }
    }
}
